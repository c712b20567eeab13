//! Redaction of secrets before a log line is shown, stored or written to disk.
//!
//! This is a secrets system: the executor's logs, a user's pasted `kubectl logs`, or an
//! OpenBao error body can carry tokens and key shares. What is replaced (the README lists
//! it too):
//! - OpenBao/Vault tokens: `hvs.`, `hvb.`, `hvr.` and the legacy `s.`, `b.`, `r.` prefixes
//!   followed by 20 or more token characters → `[REDACTED:token]`;
//! - JSON Web Tokens (`eyJ….eyJ….…`) → `[REDACTED:jwt]`;
//! - the values of `Authorization`, `X-Vault-Token` and `X-OpenBao-Token` headers (with or
//!   without `Bearer`/`Basic`) → `[REDACTED:header]`;
//! - the values of JSON keys `client_token`, `root_token`, `token`, `unseal_keys_b64`,
//!   `unseal_keys_hex`, `recovery_keys_b64`, `recovery_keys_hex`, `keys`, `keys_base64`
//!   → `[REDACTED:secret]`;
//! - unseal and recovery key shares: standalone base64 runs of a 32- or 33-byte share
//!   (44 characters) and hex runs of 64 or 66 characters (not after `sha256:`)
//!   → `[REDACTED:key-share]`.
//!
//! Redaction runs on the raw text, before sanitising, so what is redacted is exactly what
//! would have been drawn or saved.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

static SECRETS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"(?P<token>(?-u:\b)(?:hv[sbr]|[sbr])\.[A-Za-z0-9_-]{20,})"#,
        r#"|(?P<jwt>(?-u:\b)eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)"#,
        r#"|(?P<hdr>(?i:(?-u:\b)(?:authorization|x-vault-token|x-openbao-token))"?\s*[:=]\s*"?)(?P<hval>(?i:(?:bearer|basic)\s+)?[^\s",;]+)"#,
        r#"|(?P<key>"(?:client_token|root_token|token|unseal_keys_b64|unseal_keys_hex|recovery_keys_b64|recovery_keys_hex|keys|keys_base64)"\s*:\s*)(?P<kval>"[^"]*"|\[[^\]]*\])"#,
    ))
    .ok()
});

fn starts_with_ci(b: &[u8], needle: &[u8]) -> bool {
    b.len() >= needle.len() && b[..needle.len()].eq_ignore_ascii_case(needle)
}

/// The bytes of base64 (alphanumerics, `+`, `/`).
static B64: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
        c += 1;
    }
    t
};

/// Cheap scans over the bytes (vectorised searches for rare letters, one table lookup per
/// byte): (a token,
/// JWT, header or JSON key may be present, a run long enough for a key share is present).
/// Most log lines have neither and are returned untouched without running a regex.
fn candidates(b: &[u8]) -> (bool, bool) {
    // `hvs.` / `s.` at a word start.
    let token = memchr::memchr_iter(b'.', b).any(|i| {
        i >= 1
            && matches!(b[i - 1], b's' | b'b' | b'r')
            && (i < 2 || !b[i - 2].is_ascii_alphanumeric() || b[..i - 1].ends_with(b"hv"))
    });
    // `token` (a JSON key; any case: `X-Vault-Token`), `keys` and `eyJ`, found at their
    // rarer letters; `authorization` at its `z`.
    let named = token
        || memchr::memchr3_iter(b'k', b'K', b'J', b).any(|i| {
            (i >= 2 && starts_with_ci(&b[i - 2..], b"token"))
                || starts_with_ci(&b[i..], b"keys")
                || (i >= 2 && b[i - 2..].starts_with(b"eyJ"))
        })
        || memchr::memchr2_iter(b'z', b'Z', b)
            .any(|i| i >= 7 && starts_with_ci(&b[i - 7..], b"authorization"));
    if named {
        return (true, true);
    }
    (false, has_b64_run(b, 44))
}

/// Whether `b` holds `len` base64 bytes in a row. Checks each window of `len` from its end:
/// a byte that is not base64 rules out every window holding it, so the search skips past it
/// (a few bytes read per window on text of short words, not every byte).
fn has_b64_run(b: &[u8], len: usize) -> bool {
    let mut i = 0usize;
    while let Some(window) = b.get(i..i + len) {
        match window.iter().rposition(|&c| !is_b64(c)) {
            None => return true,
            Some(j) => i += j + 1,
        }
    }
    false
}

/// `line` with every secret replaced; borrowed when there was none.
pub fn redact(line: &str) -> Cow<'_, str> {
    let (named, long_run) = candidates(line.as_bytes());
    if !named && !long_run {
        return Cow::Borrowed(line);
    }
    let mut out: Cow<'_, str> = Cow::Borrowed(line);
    if named
        && let Some(re) = SECRETS.as_ref()
        && re.is_match(line)
    {
        let replaced = re.replace_all(line, |c: &regex::Captures<'_>| {
            if c.name("token").is_some() {
                "[REDACTED:token]".to_string()
            } else if c.name("jwt").is_some() {
                "[REDACTED:jwt]".to_string()
            } else if let Some(h) = c.name("hdr") {
                format!("{}[REDACTED:header]", h.as_str())
            } else if let Some(k) = c.name("key") {
                format!("{}\"[REDACTED:secret]\"", k.as_str())
            } else {
                String::new()
            }
        });
        out = Cow::Owned(replaced.into_owned());
    }
    match key_shares(&out) {
        Some(s) => Cow::Owned(s),
        None => out,
    }
}

fn is_b64(c: u8) -> bool {
    B64[usize::from(c)]
}

/// Replace standalone base64 (44 chars, one `=` at most) and hex (64/66 chars) runs.
fn key_shares(line: &str) -> Option<String> {
    let b = line.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0usize;
    let mut i = 0usize;
    while i < b.len() {
        if !is_b64(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_b64(b[i]) {
            i += 1;
        }
        let mut end = i;
        while end < b.len() && b[end] == b'=' && end - i < 2 {
            end += 1;
        }
        let run = &b[start..i];
        let pad = end - i;
        let hex = run.iter().all(u8::is_ascii_hexdigit);
        let b64_share =
            run.len() + pad == 44 && pad <= 1 && !hex && run.iter().any(u8::is_ascii_digit);
        let hex_share = pad == 0 && hex && (run.len() == 64 || run.len() == 66);
        let after_digest = line[..start].ends_with("sha256:");
        // Part of a longer word (a URL path, a file name) is not a share.
        let bounded = (start == 0 || !matches!(b[start - 1], b'.' | b'-' | b'_'))
            && (end == b.len() || !matches!(b[end], b'.' | b'-' | b'_'));
        if (b64_share || hex_share) && bounded && !after_digest {
            let o = out.get_or_insert_with(|| String::with_capacity(line.len()));
            o.push_str(&line[copied..start]);
            o.push_str("[REDACTED:key-share]");
            copied = end;
        }
        i = end.max(i);
    }
    let mut o = out?;
    o.push_str(&line[copied..]);
    Some(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_of_every_format_are_redacted() {
        for t in [
            "hvs.CAESIJlWh0sM3p1k3Pq2uYQkq0i8xqT5n7vQw1yq9Gh2Jr0aGh4KHGh2cy5oVnRkWm5xbmN1",
            "hvb.AAAAAQJ3b2x0ZXJ0b2tlbmJhdGNoMTIzNDU2Nzg5MGFiY2RlZg",
            "hvr.AAAAAQJyZWNvdmVyeXRva2VuMTIzNDU2Nzg5MA",
            "s.Zx4Jq2Lm8Np0Rt6Vw3Yb5Cd7",
            "b.AAAAAQL_tyer5mKDZ6dKLvA9vTQ5DqG1mG2R3oFxQ9ZqB7x",
        ] {
            let line = format!("login ok token={t} done");
            let r = redact(&line);
            assert_eq!(r, "login ok token=[REDACTED:token] done", "{t}");
        }
        assert_eq!(
            redact("status.breakGlass.nonce is set"),
            "status.breakGlass.nonce is set"
        );
    }

    #[test]
    fn headers_json_secrets_and_jwts_are_redacted() {
        assert_eq!(
            redact("GET /v1/sys/leader Authorization: Bearer abc.def-ghi"),
            "GET /v1/sys/leader Authorization: [REDACTED:header]"
        );
        assert_eq!(
            redact(r#"headers: {"X-Vault-Token": "s.short", "Accept": "json"}"#),
            r#"headers: {"X-Vault-Token": "[REDACTED:header]", "Accept": "json"}"#
        );
        assert_eq!(
            redact(r#"{"auth": {"client_token": "whatever-format"}}"#),
            r#"{"auth": {"client_token": "[REDACTED:secret]"}}"#
        );
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJl";
        assert_eq!(redact(&format!("jwt={jwt}")), "jwt=[REDACTED:jwt]");
    }

    #[test]
    fn a_base64_run_is_found_at_every_offset_and_length() {
        for pad in 0..50 {
            for len in [43, 44, 45] {
                let line = format!("{} {} x", "-".repeat(pad), "A".repeat(len));
                assert_eq!(has_b64_run(line.as_bytes(), 44), len >= 44, "{pad} {len}");
            }
        }
        assert!(!has_b64_run(b"", 44));
    }

    #[test]
    fn key_shares_are_redacted_but_digests_and_revisions_are_not() {
        let b64_32 = "q0Yw1h0XyY3d2d8Ydz6m8K0lqz0H5QjR1mJ3nq9dG2w=";
        let b64_33 = "Aq0Yw1h0XyY3d2d8Ydz6m8K0lqz0H5QjR1mJ3nq9dG2w";
        let hex_33 = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9aa";
        let line = format!(r#"Unseal Key 1: {b64_32} Key 2: {b64_33} hex {hex_33}"#);
        assert_eq!(
            redact(&line),
            "Unseal Key 1: [REDACTED:key-share] Key 2: [REDACTED:key-share] hex [REDACTED:key-share]"
        );
        let digest =
            "image@sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";
        assert_eq!(redact(digest), digest);
        let ok = "2026-11-23T19:30:01.123Z\tINFO\tLeader found\t{\"blue_revision\": \"e8983038c519c718\"}";
        assert!(matches!(redact(ok), Cow::Borrowed(_)), "nothing to redact");
    }
}
