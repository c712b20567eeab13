//! The bounded log line store and sanitising (the full engine is the log issue).
//!
//! Lines from the followed repair Job arrive as `SourceEvent::LogLines`; `app::update` pushes
//! them here. Every line is sanitised on insert, so nothing a pod prints (OSC 52 clipboard
//! writes, cursor moves, screen clears, bidi overrides) can reach the terminal, and matched
//! once against `patterns`, so the Logs pane renders only its visible rows. Lines are
//! addressed by an absolute sequence number that survives dropping the oldest ones, which is
//! what lets a paused view keep its position while new lines arrive.

use std::collections::VecDeque;

use crate::patterns::{self, Rule, Severity};

/// A line longer than this (in chars) is cut: one hostile line must not eat the memory bound.
pub const MAX_LINE_CHARS: usize = 2_000;
const TAB_STOP: usize = 4;

/// Neutralise control characters and escape sequences; expand tabs.
///
/// ESC sequences (CSI, OSC, DCS/SOS/PM/APC and two-byte escapes) are removed whole and
/// replaced by a visible `␛`; other C0 controls become caret notation (`^M`, `^G`), DEL `^?`,
/// C1 controls and bidi overrides `\u{FFFD}`. A trailing `\r` (CRLF logs) is dropped.
pub fn sanitize(raw: &str) -> String {
    let raw = raw.strip_suffix('\r').unwrap_or(raw);
    let mut out = String::with_capacity(raw.len().min(MAX_LINE_CHARS));
    let mut chars = raw.chars().peekable();
    let mut col = 0usize;
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
    out
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

#[derive(Debug, Clone, Copy)]
pub enum LineKind {
    /// A line from the pod, with the first pattern rule it matched and the severity to
    /// badge it with (the rule's, capped by the line's own level).
    Log(Option<(&'static Rule, Severity)>),
    /// A line the console inserted (attempt start, stream end).
    Marker,
}

#[derive(Debug, Clone)]
pub struct StoredLine {
    /// Sanitised text, safe to draw.
    pub text: String,
    pub kind: LineKind,
}

impl StoredLine {
    pub fn rule(&self) -> Option<&'static Rule> {
        self.matched().map(|(r, _)| r)
    }

    pub fn severity(&self) -> Option<Severity> {
        self.matched().map(|(_, s)| s)
    }

    pub fn matched(&self) -> Option<(&'static Rule, Severity)> {
        match self.kind {
            LineKind::Log(m) => m,
            LineKind::Marker => None,
        }
    }
}

/// Bounded, drop-oldest line store with absolute sequence numbers.
#[derive(Debug, Clone)]
pub struct LineStore {
    lines: VecDeque<StoredLine>,
    capacity: usize,
    dropped: u64,
    first_seq: u64,
    /// The newest line that matched a rule (kept even after the line itself is dropped).
    last_match: Option<(u64, &'static Rule, Severity)>,
}

impl Default for LineStore {
    fn default() -> Self {
        LineStore::new(LineStore::DEFAULT_CAPACITY)
    }
}

impl LineStore {
    pub const DEFAULT_CAPACITY: usize = 100_000;

    pub fn new(capacity: usize) -> LineStore {
        LineStore {
            lines: VecDeque::new(),
            capacity: capacity.max(1),
            dropped: 0,
            first_seq: 0,
            last_match: None,
        }
    }

    /// Sanitise, match and store one line from the pod.
    pub fn push_line(&mut self, raw: &str) {
        self.push(StoredLine {
            text: sanitize(raw),
            kind: LineKind::Log(patterns::classify(raw)),
        });
    }

    pub fn push_marker(&mut self, text: &str) {
        self.push(StoredLine {
            text: sanitize(text),
            kind: LineKind::Marker,
        });
    }

    fn push(&mut self, line: StoredLine) {
        if let Some((rule, severity)) = line.matched() {
            self.last_match = Some((self.end_seq(), rule, severity));
        }
        if self.lines.len() == self.capacity {
            self.lines.pop_front();
            self.first_seq += 1;
            self.dropped += 1;
        }
        self.lines.push_back(line);
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// How many of the oldest lines were dropped to keep the bound.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The newest matched line's sequence number, rule and severity.
    pub fn last_match(&self) -> Option<(u64, &'static Rule, Severity)> {
        self.last_match
    }

    /// Sequence number of the oldest stored line.
    pub fn first_seq(&self) -> u64 {
        self.first_seq
    }

    /// One past the newest line's sequence number.
    pub fn end_seq(&self) -> u64 {
        self.first_seq + self.lines.len() as u64
    }

    /// Up to `count` lines from `start` (clamped to what is stored), with their sequence numbers.
    pub fn range(&self, start: u64, count: usize) -> impl Iterator<Item = (u64, &StoredLine)> {
        let start = start.max(self.first_seq);
        // `VecDeque::range` starts in O(1), so drawing the visible rows never walks the buffer.
        let offset = usize::try_from(start - self.first_seq)
            .unwrap_or(usize::MAX)
            .min(self.lines.len());
        self.lines
            .range(offset..)
            .take(count)
            .zip(start..)
            .map(|(l, s)| (s, l))
    }

    /// The nearest line after (`forward`) or before `from` badged with `severity`.
    /// O(distance): used on a key press, never per frame.
    pub fn find(&self, from: u64, forward: bool, severity: Severity) -> Option<u64> {
        let hit = |l: &StoredLine| l.severity() == Some(severity);
        if forward {
            self.range(from.saturating_add(1), usize::MAX)
                .find(|(_, l)| hit(l))
                .map(|(s, _)| s)
        } else {
            let before = usize::try_from(from.saturating_sub(self.first_seq))
                .unwrap_or(usize::MAX)
                .min(self.lines.len());
            self.lines
                .range(..before)
                .rev()
                .zip((self.first_seq..self.first_seq + before as u64).rev())
                .find(|(l, _)| hit(l))
                .map(|(_, s)| s)
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
    fn long_lines_are_cut() {
        let s = sanitize(&"x".repeat(MAX_LINE_CHARS * 2));
        assert_eq!(s.chars().count(), MAX_LINE_CHARS + 1);
    }

    #[test]
    fn the_store_is_bounded_and_counts_what_it_dropped() {
        let mut st = LineStore::new(3);
        for i in 0..5 {
            st.push_line(&format!("line {i}"));
        }
        assert_eq!(st.len(), 3);
        assert_eq!(st.dropped(), 2);
        assert_eq!(st.first_seq(), 2);
        assert_eq!(st.end_seq(), 5);
        let got: Vec<_> = st.range(0, 10).map(|(s, l)| (s, l.text.clone())).collect();
        assert_eq!(
            got,
            [
                (2, "line 2".to_string()),
                (3, "line 3".to_string()),
                (4, "line 4".to_string())
            ]
        );
        assert_eq!(st.range(4, 10).count(), 1);
        assert_eq!(st.range(9, 10).count(), 0);
    }

    #[test]
    fn find_jumps_between_matching_lines_both_ways() {
        let mut st = LineStore::new(5);
        for l in [
            "x",
            "ERR status 403",
            "y",
            "z",
            "status 403 again",
            "w",
            "v",
        ] {
            st.push_line(l);
        }
        // Capacity 5: seqs 2..=6 are stored ("y" .. "v"); the first 403 line was dropped.
        let err = Severity::Error;
        assert_eq!(st.find(2, true, err), Some(4));
        assert_eq!(st.find(4, true, err), None);
        assert_eq!(st.find(6, false, err), Some(4));
        assert_eq!(st.find(4, false, err), None);
        assert_eq!(st.find(0, true, err), Some(4));
    }

    #[test]
    fn lines_are_matched_on_insert_on_the_raw_text() {
        let mut st = LineStore::default();
        st.push_line("2026-11-23T10:00:01.000Z\tERROR\tupgrade-executor error: status 403");
        st.push_marker("── attempt 0 ──");
        let lines: Vec<_> = st.range(0, 2).collect();
        assert_eq!(lines[0].1.rule().map(|r| r.id), Some("permission-denied"));
        assert!(lines[1].1.rule().is_none());
        assert_eq!(
            st.last_match().map(|(seq, r, _)| (seq, r.id)),
            Some((0, "permission-denied"))
        );
    }
}
