//! Sanitising: nothing a pod prints (OSC 52 clipboard writes, cursor moves, screen clears,
//! bidi overrides) reaches the terminal. Used for every log line on insert, for API strings
//! in the panes, and by `breakglass highlight` before it adds its own colours.

/// A line longer than this (in chars) is cut: one hostile line must not eat the memory bound.
pub(crate) const MAX_LINE_CHARS: usize = 16_384;
const TAB_STOP: usize = 4;

/// Neutralise control characters and escape sequences; expand tabs.
///
/// ESC sequences (CSI, OSC, DCS/SOS/PM/APC and two-byte escapes) are removed whole and
/// replaced by a visible `␛`; other C0 controls become caret notation (`^M`, `^G`), DEL `^?`,
/// C1 controls and bidi overrides `\u{FFFD}`. A trailing `\r` (CRLF logs) is dropped.
pub(crate) fn sanitize(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len().min(MAX_LINE_CHARS) + 16);
    sanitize_into(raw, &mut out);
    out
}

/// [`sanitize`] appending to `out` (a reused buffer: no allocation per line).
pub(crate) fn sanitize_into(raw: &str, out: &mut String) {
    let raw = raw.strip_suffix('\r').unwrap_or(raw);
    // Fast path over the printable ASCII and tabs that make up executor lines: copy runs,
    // expand tabs; the first other byte hands the rest to the char-by-char path.
    let bytes = raw.as_bytes();
    let mut col = 0usize;
    let mut i = 0usize;
    while i < bytes.len() && col < MAX_LINE_CHARS {
        let b = bytes[i];
        if (0x20..0x7f).contains(&b) {
            // Up to the next tab, when all of it is printable and fits: one vectorised check.
            let next = memchr::memchr(b'\t', &bytes[i..]).map_or(bytes.len(), |t| i + t);
            let segment = &bytes[i..next];
            if col + segment.len() <= MAX_LINE_CHARS
                && segment.iter().all(|c| (0x20..0x7f).contains(c))
            {
                out.push_str(&raw[i..next]);
                col += segment.len();
                i = next;
                continue;
            }
            let start = i;
            let room = MAX_LINE_CHARS - col;
            while i < bytes.len() && i - start < room && (0x20..0x7f).contains(&bytes[i]) {
                i += 1;
            }
            out.push_str(&raw[start..i]);
            col += i - start;
        } else if b == b'\t' {
            let n = TAB_STOP - col % TAB_STOP;
            out.extend(std::iter::repeat_n(' ', n));
            col += n;
            i += 1;
        } else {
            break;
        }
    }
    let rest = &raw[i..];
    if rest.is_empty() {
        return;
    }
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if col >= MAX_LINE_CHARS {
            out.push('…');
            break;
        }
        match c {
            '\t' => {
                let n = TAB_STOP - col % TAB_STOP;
                out.extend(std::iter::repeat_n(' ', n));
                col += n;
            }
            '\x1b' => {
                skip_escape(&mut chars);
                out.push('␛');
                col += 1;
            }
            '\u{9b}' => {
                // 8-bit CSI: drop its parameters like the 7-bit form.
                skip_until_final(&mut chars);
                out.push('␛');
                col += 1;
            }
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => {
                skip_string(&mut chars);
                out.push('␛');
                col += 1;
            }
            c if (c as u32) < 0x20 => {
                out.push('^');
                out.push(char::from(b'@' + c as u8));
                col += 2;
            }
            '\x7f' => {
                out.push_str("^?");
                col += 2;
            }
            '\u{80}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                out.push('\u{FFFD}');
                col += 1;
            }
            c => {
                out.push(c);
                col += 1;
            }
        }
    }
}

/// Whether [`sanitize`] only expands the tabs of `raw` (printable ASCII and tabs, short enough
/// never to be cut): then [`expand_tabs_into`] is all of it, and `raw` itself when it holds no
/// tab. Checks every byte without branching on each, which the compiler vectorises.
pub(crate) fn only_tabs_to_expand(raw: &str) -> bool {
    let b = raw.as_bytes();
    b.len() <= MAX_LINE_CHARS / TAB_STOP
        && b.iter().fold(true, |ok, &c| {
            ok & ((0x20..0x7f).contains(&c) | (c == b'\t'))
        })
}

/// [`sanitize_into`] of a line [`only_tabs_to_expand`] accepts.
pub(crate) fn expand_tabs_into(raw: &str, out: &mut String) {
    let mut col = 0usize;
    let mut at = 0usize;
    for tab in memchr::memchr_iter(b'\t', raw.as_bytes()) {
        out.push_str(&raw[at..tab]);
        col += tab - at;
        let n = TAB_STOP - col % TAB_STOP;
        out.extend(std::iter::repeat_n(' ', n));
        col += n;
        at = tab + 1;
    }
    out.push_str(&raw[at..]);
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// After ESC: consume the rest of the sequence.
fn skip_escape(chars: &mut Chars<'_>) {
    match chars.next() {
        Some('[') => skip_until_final(chars),
        Some(']' | 'P' | 'X' | '^' | '_') => skip_string(chars),
        // Two-byte escapes (ESC 7, ESC c...) and intermediates (ESC ( B).
        Some(c) if ('\x20'..='\x2f').contains(&c) => {
            chars.next();
        }
        _ => {}
    }
}

/// CSI parameters and intermediates, up to and including the final byte (0x40..=0x7e).
fn skip_until_final(chars: &mut Chars<'_>) {
    // A control char inside a CSI aborts it; it is consumed too (never drawn).
    for c in chars.by_ref() {
        if ('\x40'..='\x7e').contains(&c) || c.is_control() {
            return;
        }
    }
}

/// OSC/DCS/APC payloads, up to BEL, ST (ESC \) or 8-bit ST.
fn skip_string(chars: &mut Chars<'_>) {
    while let Some(c) = chars.next() {
        match c {
            '\x07' | '\u{9c}' => return,
            '\x1b' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_sequences_never_survive() {
        for raw in [
            "copy \x1b]52;c;ZWNobyBwd25lZA==\x07 done",
            "copy \x1b]52;c;ZWNobyBwd25lZA==\x1b\\ done",
            "clear \x1b[2J\x1b[H home",
            "title \x1b]0;evil\x07",
            "8bit \u{9b}2J csi",
            "apc \x1b_payload\x1b\\ end",
            "bell\x07 bs\x08 nul\x00",
        ] {
            let s = sanitize(raw);
            assert!(
                !s.chars()
                    .any(|c| c.is_control() || c == '\x1b' || ('\u{80}'..='\u{9f}').contains(&c)),
                "{raw:?} -> {s:?}"
            );
            assert!(!s.contains("ZWNo"), "OSC payload leaked: {s:?}");
            assert!(!s.contains("[2J"), "CSI parameters leaked: {s:?}");
        }
        assert_eq!(sanitize("clear \x1b[2J\x1b[H home"), "clear ␛␛ home");
        assert_eq!(sanitize("a\rb"), "a^Mb");
        assert_eq!(sanitize("line\r"), "line");
        assert_eq!(sanitize("bidi \u{202e}txt"), "bidi \u{FFFD}txt");
    }

    #[test]
    fn tabs_expand_to_spaces() {
        assert_eq!(sanitize("ab\tc"), "ab  c");
        assert_eq!(sanitize("\tx"), "    x");
    }

    #[test]
    fn expanding_tabs_is_sanitising_for_printable_lines() {
        for raw in ["", "a", "\t", "ab\tc\t\td", "\tx y\t", &"x\t".repeat(1365)] {
            assert!(only_tabs_to_expand(raw), "{raw:?}");
            let mut out = String::new();
            expand_tabs_into(raw, &mut out);
            assert_eq!(out, sanitize(raw), "{raw:?}");
        }
        for raw in [
            "a\r",
            "\x1b[1m",
            "é",
            "\x7f",
            &"x".repeat(MAX_LINE_CHARS / 4 + 1),
        ] {
            assert!(!only_tabs_to_expand(raw), "{raw:?}");
        }
    }

    #[test]
    fn long_lines_are_cut() {
        let s = sanitize(&"x".repeat(MAX_LINE_CHARS * 2));
        assert_eq!(s.chars().count(), MAX_LINE_CHARS + 1);
    }
}
