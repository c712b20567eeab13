//! The bounded log line store: redaction, sanitising, matching, evidence.
//!
//! Lines from the followed repair Job arrive as `SourceEvent::LogLines`; `app::update` pushes
//! them here. Every line is redacted ([`redact`]: tokens, key shares, auth headers) and
//! sanitised ([`sanitize`]: nothing a pod prints reaches the terminal) on insert, and
//! classified once against the active [`patterns`] rule set, so the Logs pane renders only
//! its visible rows. Lines are addressed by an absolute sequence number that survives
//! dropping the oldest ones, which is what lets a paused view keep its position while new
//! lines arrive.
//!
//! **Evidence for the decision panel.** Every line a rule matched is also kept as an
//! [`Evidence`] record (rule, badge severity, the line's own zap time, the repair attempt,
//! the sequence number and the redacted line), bounded separately from the lines
//! ([`EVIDENCE_CAPACITY`], oldest dropped and counted) so that evidence outlives the lines
//! it came from. Read it with [`LineStore::evidence`] (oldest first) or
//! [`LineStore::evidence_for`] (one rule id); [`LineStore::last_match`] is the newest.

use std::collections::VecDeque;

use crate::patterns::{self, Rule, Severity};

pub mod fold;
pub mod redact;
pub mod sanitize;
pub mod search;

pub use redact::redact;
pub(crate) use sanitize::sanitize;

/// How many evidence records are kept (the oldest are dropped and counted).
pub(crate) const EVIDENCE_CAPACITY: usize = 10_000;
/// An evidence record keeps at most this many chars of its line.
const EVIDENCE_LINE_CHARS: usize = 1_000;

#[derive(Debug, Clone, Copy)]
pub enum LineKind {
    /// A line from the pod, with the first pattern rule it matched and the severity to
    /// badge it with (the rule's, capped by the line's own level).
    Log(Option<(&'static Rule, Severity)>),
    /// A line the console inserted (attempt start, stream end, gap).
    Marker,
}

#[derive(Debug, Clone)]
pub struct StoredLine {
    /// Redacted and sanitised text, safe to draw.
    pub text: Box<str>,
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

/// One matched line, kept for the decision panel and the report.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub rule: &'static Rule,
    /// The badge severity (the rule's, capped by the line's level).
    pub severity: Severity,
    /// The executor's own timestamp (zap's first field), when the line has one.
    pub time: Option<String>,
    /// The repair attempt (0 = `rollback`, N = `rollback-retry-N`), when known.
    pub attempt: Option<i32>,
    /// Sequence number of the line in the store (it may have been dropped since).
    pub seq: u64,
    /// The redacted, sanitised line (cut to 1 000 chars).
    pub line: String,
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
    attempt: Option<i32>,
    evidence: VecDeque<Evidence>,
    evidence_capacity: usize,
    evidence_dropped: u64,
    /// One entry per rule, attempt and severity: the newest record and how many lines
    /// matched (evicted ones included). Few entries, whatever the store's size.
    evidence_groups: Vec<(Evidence, u64)>,
}

impl Default for LineStore {
    fn default() -> Self {
        LineStore::new(LineStore::DEFAULT_CAPACITY)
    }
}

/// The zap time at the start of an executor line, if it looks like one.
fn zap_time(line: &str) -> Option<String> {
    let first = line.split('\t').next()?;
    let b = first.as_bytes();
    let looks = b.len() >= 20 && b.get(4) == Some(&b'-') && b.get(10) == Some(&b'T');
    looks.then(|| first.to_string())
}

impl LineStore {
    pub(crate) const DEFAULT_CAPACITY: usize = 100_000;

    pub fn new(capacity: usize) -> LineStore {
        LineStore::with_evidence_capacity(capacity, EVIDENCE_CAPACITY)
    }

    /// A store keeping `capacity` lines and `evidence_capacity` evidence records (tests use
    /// a small one to see records dropped).
    pub(crate) fn with_evidence_capacity(capacity: usize, evidence_capacity: usize) -> LineStore {
        LineStore {
            lines: VecDeque::new(),
            capacity: capacity.max(1),
            dropped: 0,
            first_seq: 0,
            last_match: None,
            attempt: None,
            evidence: VecDeque::new(),
            evidence_capacity: evidence_capacity.max(1),
            evidence_dropped: 0,
            evidence_groups: Vec::new(),
        }
    }

    /// Redact, sanitise, match and store one line from the pod. Returns its sequence number.
    pub fn push_line(&mut self, raw: &str) -> u64 {
        let redacted = redact(raw);
        let matched = patterns::classify(&redacted);
        let text = sanitize(&redacted);
        let seq = self.end_seq();
        if let Some((rule, severity)) = matched {
            self.last_match = Some((seq, rule, severity));
            if self.evidence.len() == self.evidence_capacity {
                self.evidence.pop_front();
                self.evidence_dropped += 1;
            }
            let record = Evidence {
                rule,
                severity,
                time: zap_time(&redacted),
                attempt: self.attempt,
                seq,
                line: text.chars().take(EVIDENCE_LINE_CHARS).collect(),
            };
            self.group(&record);
            self.evidence.push_back(record);
        }
        self.push(StoredLine {
            text: text.into_boxed_str(),
            kind: LineKind::Log(matched),
        })
    }

    pub(crate) fn push_marker(&mut self, text: &str) -> u64 {
        self.push(StoredLine {
            text: sanitize(text).into_boxed_str(),
            kind: LineKind::Marker,
        })
    }

    /// A new repair attempt starts: its marker, and the attempt its evidence is filed under.
    pub(crate) fn begin_attempt(&mut self, attempt: Option<i32>, marker: &str) -> u64 {
        self.attempt = attempt;
        self.push_marker(marker)
    }

    fn push(&mut self, line: StoredLine) -> u64 {
        if self.lines.len() == self.capacity {
            self.lines.pop_front();
            self.first_seq += 1;
            self.dropped += 1;
        }
        self.lines.push_back(line);
        self.end_seq() - 1
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

    /// How many of the oldest evidence records were dropped to keep their bound (the lines
    /// are still in the evidence files when those are written; the Decision pane says so).
    pub fn evidence_dropped(&self) -> u64 {
        self.evidence_dropped
    }

    /// The newest matched line's sequence number, rule and severity.
    pub(crate) fn last_match(&self) -> Option<(u64, &'static Rule, Severity)> {
        self.last_match
    }

    /// Every matched line still kept, oldest first.
    pub fn evidence(&self) -> impl DoubleEndedIterator<Item = &Evidence> {
        self.evidence.iter()
    }

    /// Evidence grouped by rule, attempt and severity, in order of first match: the newest
    /// record of each and how many lines matched (including records dropped since).
    pub(crate) fn evidence_groups(&self) -> impl Iterator<Item = (&Evidence, u64)> {
        self.evidence_groups.iter().map(|(e, n)| (e, *n))
    }

    fn group(&mut self, record: &Evidence) {
        let same = |e: &Evidence| {
            std::ptr::eq(e.rule, record.rule)
                && e.attempt == record.attempt
                && e.severity == record.severity
        };
        match self.evidence_groups.iter_mut().find(|(e, _)| same(e)) {
            Some((newest, count)) => {
                newest.clone_from(record);
                *count += 1;
            }
            None => self.evidence_groups.push((record.clone(), 1)),
        }
    }

    /// The evidence of one rule, oldest first.
    #[cfg(test)]
    pub(crate) fn evidence_for<'a>(
        &'a self,
        rule_id: &'a str,
    ) -> impl Iterator<Item = &'a Evidence> {
        self.evidence.iter().filter(move |e| e.rule.id == rule_id)
    }

    /// Sequence number of the oldest stored line.
    pub(crate) fn first_seq(&self) -> u64 {
        self.first_seq
    }

    /// One past the newest line's sequence number.
    pub(crate) fn end_seq(&self) -> u64 {
        self.first_seq + self.lines.len() as u64
    }

    /// The line with sequence number `seq`, if still stored.
    pub fn get(&self, seq: u64) -> Option<&StoredLine> {
        let i = usize::try_from(seq.checked_sub(self.first_seq)?).ok()?;
        self.lines.get(i)
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

    /// Lines before `end` (exclusive), newest first, with their sequence numbers.
    pub(crate) fn range_back(&self, end: u64) -> impl Iterator<Item = (u64, &StoredLine)> {
        let before = usize::try_from(end.saturating_sub(self.first_seq))
            .unwrap_or(usize::MAX)
            .min(self.lines.len());
        self.lines
            .range(..before)
            .rev()
            .zip((self.first_seq..self.first_seq + before as u64).rev())
            .map(|(l, s)| (s, l))
    }

    /// The nearest line after (`forward`) or before `from` satisfying `hit`.
    /// O(distance): used on a key press, never per frame.
    pub(crate) fn find_by(
        &self,
        from: u64,
        forward: bool,
        hit: impl Fn(&StoredLine) -> bool,
    ) -> Option<u64> {
        if forward {
            self.range(from.saturating_add(1), usize::MAX)
                .find(|(_, l)| hit(l))
                .map(|(s, _)| s)
        } else {
            self.range_back(from).find(|(_, l)| hit(l)).map(|(s, _)| s)
        }
    }

    /// The nearest line after (`forward`) or before `from` badged with `severity`.
    pub fn find(&self, from: u64, forward: bool, severity: Severity) -> Option<u64> {
        self.find_by(from, forward, |l| l.severity() == Some(severity))
    }
}

#[cfg(test)]
mod tests;
