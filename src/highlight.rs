//! `breakglass highlight`: the log engine as a stdin → stdout filter, so
//! `kubectl logs -f job/… | breakglass highlight` works on any machine.
//!
//! Each input line goes through the same steps as a line in the Logs pane: lossy UTF-8,
//! [`redact`], [`sanitize`] (no escape sequence from the input reaches the terminal; the only
//! ones written are ours), classification and highlight spans from the active rule set.
//! `ansi` writes a severity badge gutter (`[ERR] `, never colour alone) and the line with its
//! matches styled; with `NO_COLOR` the styles are bold/underline only. `json` writes one
//! object per line: `{"n", "text", "severity", "rule", "meaning", "path", "matches":
//! [{"rule", "severity", "start", "end"}]}` (byte offsets into `text`).

use std::io::{self, BufRead, Write};

use serde_json::json;

use crate::logs::{redact, sanitize};
use crate::patterns::{RuleSet, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    #[default]
    Ansi,
    Json,
}

const RESET: &str = "\x1b[0m";

fn style(sev: Severity, color: bool) -> &'static str {
    match (sev, color) {
        (Severity::Error, true) => "\x1b[1;4;31m",
        (Severity::Warn, true) => "\x1b[1;4;33m",
        (Severity::Info, true) => "\x1b[4;36m",
        (Severity::Error | Severity::Warn, false) => "\x1b[1;4m",
        (Severity::Info, false) => "\x1b[4m",
    }
}

/// Filter `input` to `out` until end of input. Broken pipes end it quietly (`| head`).
pub fn run(
    rules: &RuleSet,
    format: Format,
    color: bool,
    input: impl BufRead,
    out: impl Write,
) -> io::Result<()> {
    match filter(rules, format, color, input, out) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

fn filter(
    rules: &RuleSet,
    format: Format,
    color: bool,
    mut input: impl BufRead,
    out: impl Write,
) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    let mut buf = Vec::with_capacity(4096);
    let mut n: u64 = 0;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        n += 1;
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        let raw = String::from_utf8_lossy(&buf);
        let redacted = redact(&raw);
        let matched = rules.classify(&redacted);
        let text = sanitize(&redacted);
        let spans = if matched.is_some() {
            rules.spans(&text)
        } else {
            Vec::new()
        };
        match format {
            Format::Ansi => {
                match matched {
                    Some((_, sev)) => {
                        out.write_all(style(sev, color).as_bytes())?;
                        out.write_all(sev.badge().as_bytes())?;
                        out.write_all(RESET.as_bytes())?;
                        out.write_all(b" ")?;
                    }
                    None => out.write_all(b"      ")?,
                }
                let mut at = 0;
                for s in &spans {
                    out.write_all(&text.as_bytes()[at..s.range.start])?;
                    out.write_all(style(s.severity, color).as_bytes())?;
                    out.write_all(&text.as_bytes()[s.range.clone()])?;
                    out.write_all(RESET.as_bytes())?;
                    at = s.range.end;
                }
                out.write_all(&text.as_bytes()[at..])?;
                out.write_all(b"\n")?;
            }
            Format::Json => {
                let matches: Vec<_> = spans
                    .iter()
                    .filter_map(|s| {
                        let r = rules.rule(s.rule)?;
                        Some(json!({
                            "rule": r.id,
                            "severity": s.severity.name(),
                            "start": s.range.start,
                            "end": s.range.end,
                        }))
                    })
                    .collect();
                let obj = json!({
                    "n": n,
                    "text": text,
                    "severity": matched.map(|(_, s)| s.name()),
                    "rule": matched.map(|(r, _)| r.id.as_str()),
                    "meaning": matched.map(|(r, _)| r.meaning.as_str()),
                    "path": matched.map(|(r, _)| r.path.name()),
                    "matches": matches,
                });
                serde_json::to_writer(&mut out, &obj)?;
                out.write_all(b"\n")?;
            }
        }
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ansi(input: &str, color: bool) -> String {
        let mut out = Vec::new();
        run(
            &RuleSet::builtin(),
            Format::Ansi,
            color,
            input.as_bytes(),
            &mut out,
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn only_our_escapes_reach_the_output() {
        let out = ansi(
            "evil \x1b]52;c;ZWNobyBwd25lZA==\x07 upgrade-executor error: x\n",
            false,
        );
        assert!(!out.contains("ZWNo"), "{out:?}");
        assert!(!out.contains("\x1b]"), "{out:?}");
        assert!(out.starts_with("\x1b[1;4m[ERR]\x1b[0m "), "{out:?}");
        assert!(
            out.contains("\x1b[1;4mupgrade-executor error:\x1b[0m"),
            "{out:?}"
        );
    }

    #[test]
    fn unmatched_lines_pass_through_with_an_empty_gutter() {
        assert_eq!(ansi("plain\nsecond", true), "      plain\n      second\n");
    }
}
