//! Log navigation beyond scrolling, for the pure `update`: search (`/`, `n`/`N`, "k of m"),
//! a filter that hides non-matching lines (`&`, distinct from search), jumps to warnings
//! (`w`/`W`), the timestamp, wrap and stack-folding toggles, and the query being typed.
//!
//! Search hits and filtered lines are kept as sorted sequence numbers, extended as lines
//! arrive and trimmed as the store drops its oldest, so a key press costs a binary search
//! and drawing stays O(visible rows). Typing a query is a keymap context of its own
//! (`LogInput`): Enter applies, Esc cancels, other characters are typed.

use std::collections::VecDeque;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::keymap::Action;
use super::state::{LogPane, State};
use crate::logs::StoredLine;
use crate::logs::fold::{self, Row};
use crate::logs::search::Query;
use crate::patterns::Severity;
use crate::ui::layout;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Search,
    Filter,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub kind: InputKind,
    pub text: String,
}

/// Navigation state of the Logs pane.
#[derive(Debug, Clone, Default)]
pub struct LogNav {
    /// A query being typed (the footer shows it).
    pub input: Option<Input>,
    pub search: Option<Query>,
    /// Sequence numbers of the stored lines matching `search`, ascending.
    hits: VecDeque<u64>,
    /// The hit `n`/`N` last jumped to.
    pub current: Option<u64>,
    pub filter: Option<Query>,
    /// Sequence numbers of the stored lines matching `filter`, ascending.
    shown: VecDeque<u64>,
    pub hide_timestamps: bool,
    pub wrap: bool,
    /// Draw stack traces line by line (`x`); folded by default ([`crate::logs::fold`]).
    pub unfold_stacks: bool,
}

impl LogNav {
    /// "k of m": the current hit's 1-based position (0 before the first jump) and the count.
    pub(crate) fn hit_count(&self) -> Option<(usize, usize)> {
        self.search.as_ref()?;
        let k = self
            .current
            .and_then(|c| self.hits.binary_search(&c).ok())
            .map_or(0, |i| i + 1);
        Some((k, self.hits.len()))
    }

    /// Lines the filter lets through (None: no filter).
    pub(crate) fn shown_count(&self) -> Option<usize> {
        self.filter.as_ref().map(|_| self.shown.len())
    }

    pub(crate) fn is_hit(&self, seq: u64) -> bool {
        self.search.is_some() && self.hits.binary_search(&seq).is_ok()
    }

    /// The tail's top line under a filter (None: no filter).
    pub(super) fn filtered_tail_top(&self, rows: u16, end: u64) -> Option<u64> {
        self.filter.as_ref()?;
        let n = self.shown.len();
        Some(match n.checked_sub(usize::from(rows.max(1))) {
            Some(i) => self.shown[i],
            None => self.shown.front().copied().unwrap_or(end),
        })
    }
}

/// A line as drawn: its sequence number and the stored line.
pub(crate) type Drawn<'a> = (u64, &'a StoredLine);

pub(crate) fn text_of<'a>(item: &Drawn<'a>) -> &'a str {
    &item.1.text
}

fn index(store: &crate::logs::LineStore, q: &Query) -> VecDeque<u64> {
    store
        .range(0, usize::MAX)
        .filter(|(_, l)| q.matches(&l.text))
        .map(|(s, _)| s)
        .collect()
}

/// Store one line from the pod and index it for the search and the filter.
pub fn push_line(logs: &mut LogPane, raw: &str) {
    let seq = logs.store.push_line(raw);
    let first = logs.store.first_seq();
    let nav = &mut logs.nav;
    if let Some(text) = logs.store.get(seq).map(|l| &l.text) {
        if nav.search.as_ref().is_some_and(|q| q.matches(text)) {
            nav.hits.push_back(seq);
        }
        if nav.filter.as_ref().is_some_and(|q| q.matches(text)) {
            nav.shown.push_back(seq);
        }
    }
    while nav.hits.front().is_some_and(|s| *s < first) {
        nav.hits.pop_front();
    }
    while nav.shown.front().is_some_and(|s| *s < first) {
        nav.shown.pop_front();
    }
}

impl LogPane {
    /// Up to `rows` lines from `start` as drawn: every line, or the filtered ones.
    pub(crate) fn rows_from(&self, start: u64, rows: usize) -> Vec<(u64, &StoredLine)> {
        self.rows_after(start).take(rows).collect()
    }

    /// Drawn lines from `start` on, oldest first (read lazily: only what is taken is touched).
    pub(crate) fn rows_after(
        &self,
        start: u64,
    ) -> Box<dyn Iterator<Item = (u64, &StoredLine)> + '_> {
        if self.nav.filter.is_none() {
            return Box::new(self.store.range(start, usize::MAX));
        }
        let from = self.nav.shown.partition_point(|s| *s < start);
        Box::new(
            self.nav
                .shown
                .range(from..)
                .filter_map(|s| Some((*s, self.store.get(*s)?))),
        )
    }

    /// Drawn lines before `end`, newest first (for filling a wrapped tail from the bottom).
    pub(crate) fn rows_before(
        &self,
        end: u64,
    ) -> Box<dyn Iterator<Item = (u64, &StoredLine)> + '_> {
        if self.nav.filter.is_none() {
            return Box::new(self.store.range_back(end));
        }
        let to = self.nav.shown.partition_point(|s| *s < end);
        Box::new(
            self.nav
                .shown
                .range(..to)
                .rev()
                .filter_map(|s| Some((*s, self.store.get(*s)?))),
        )
    }

    /// The rows ending just before `end` that fill `rows` rows of the pane (at least one),
    /// oldest first; `height` says how tall a row is (1, or more when wrapping). Stack traces
    /// are folded unless `x` unfolded them. Reads back from `end`, twice as many lines each
    /// time, until the rows are filled: O(visible rows), plus the lines of a folded run.
    pub(crate) fn rows_ending_at(
        &self,
        end: u64,
        rows: usize,
        height: impl Fn(&Row<Drawn<'_>>) -> usize,
    ) -> Vec<Row<Drawn<'_>>> {
        let rows = rows.max(1);
        let mut take = rows * 2;
        loop {
            let mut lines: Vec<Drawn<'_>> = self.rows_before(end).take(take).collect();
            let exhausted = lines.len() < take;
            lines.reverse();
            let mut all: Vec<Row<Drawn<'_>>> = if self.nav.unfold_stacks {
                lines.into_iter().map(Row::Line).collect()
            } else {
                fold::fold(lines, text_of, usize::MAX)
            };
            let mut used = 0usize;
            let mut keep = 0usize;
            for r in all.iter().rev() {
                let h = height(r);
                if used + h > rows && keep > 0 {
                    break;
                }
                used += h;
                keep += 1;
                if used >= rows {
                    break;
                }
            }
            // The oldest row read may be a run cut short by the read: it counts only when the
            // read reached the oldest line.
            if keep < all.len() || exhausted || take >= rows * fold::MAX_RUN {
                return all.split_off(all.len() - keep);
            }
            take *= 2;
        }
    }

    /// `top` moved by `delta` drawn rows (over the filtered lines when filtering; a folded
    /// stack trace is one row).
    pub fn step(&self, top: u64, delta: i64) -> u64 {
        if !self.nav.unfold_stacks {
            let n = usize::try_from(delta.unsigned_abs()).unwrap_or(usize::MAX);
            let rows = if delta >= 0 {
                fold::fold(self.rows_after(top), text_of, n.saturating_add(1))
            } else {
                self.rows_ending_at(top, n, |_| 1)
            };
            let target = if delta >= 0 {
                rows.last()
            } else {
                rows.first()
            };
            return target.map_or(top, |r| r.first().0);
        }
        if self.nav.filter.is_none() {
            return if delta < 0 {
                top.saturating_sub(delta.unsigned_abs())
            } else {
                top.saturating_add(delta.unsigned_abs())
            };
        }
        let shown = &self.nav.shown;
        let Some(last) = shown.len().checked_sub(1) else {
            return top;
        };
        let i = shown.partition_point(|s| *s < top);
        let moved = i64::try_from(i).unwrap_or(i64::MAX).saturating_add(delta);
        let j = usize::try_from(moved.max(0)).unwrap_or(0).min(last);
        shown[j]
    }
}

/// A key typed while a query is being entered. True when it was consumed.
pub(crate) fn on_typed(state: &mut State, key: &KeyEvent) -> bool {
    let Some(input) = state.logs.nav.input.as_mut() else {
        return false;
    };
    match key.code {
        KeyCode::Char(c)
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            if input.text.chars().count() < 200 {
                input.text.push(c);
            }
            true
        }
        _ => false,
    }
}

/// The log navigation actions. True when `action` was one of them.
pub fn handle(state: &mut State, action: Action) -> bool {
    let nav = &mut state.logs.nav;
    match action {
        Action::SearchStart | Action::FilterStart => {
            let kind = if action == Action::SearchStart {
                InputKind::Search
            } else {
                InputKind::Filter
            };
            nav.input = Some(Input {
                kind,
                text: String::new(),
            });
        }
        Action::InputCancel => nav.input = None,
        Action::InputBackspace => {
            if let Some(i) = nav.input.as_mut() {
                i.text.pop();
            }
        }
        Action::InputCommit => commit(state),
        Action::NextHit | Action::PrevHit => jump_hit(state, action == Action::NextHit),
        Action::NextWarn | Action::PrevWarn => {
            jump_severity(state, action == Action::NextWarn, Severity::Warn)
        }
        Action::ClearQueries => {
            nav.search = None;
            nav.hits.clear();
            nav.current = None;
            nav.filter = None;
            nav.shown.clear();
        }
        Action::ToggleTimestamps => nav.hide_timestamps = !nav.hide_timestamps,
        Action::ToggleWrap => nav.wrap = !nav.wrap,
        Action::ToggleFold => nav.unfold_stacks = !nav.unfold_stacks,
        _ => return false,
    }
    true
}

fn commit(state: &mut State) {
    let Some(input) = state.logs.nav.input.take() else {
        return;
    };
    let query = Query::new(&input.text);
    let indexed = query
        .as_ref()
        .map(|q| index(&state.logs.store, q))
        .unwrap_or_default();
    let nav = &mut state.logs.nav;
    match input.kind {
        InputKind::Search => {
            nav.search = query;
            nav.hits = indexed;
            nav.current = None;
            // Following, the newest hit matters most; paused, search on from the top line.
            let forward = !state.logs.follow;
            if state.logs.nav.search.is_some() {
                jump_hit(state, forward);
            }
        }
        InputKind::Filter => {
            nav.filter = query;
            nav.shown = indexed;
        }
    }
}

/// Pause (if following) and put `seq` at the top.
fn show_at(state: &mut State, seq: u64) {
    state.logs.follow = false;
    state.logs.top = seq;
}

fn from_here(state: &State, forward: bool) -> u64 {
    let rows = layout::visible_log_rows(state.size, state.focus);
    match (state.logs.follow, forward) {
        (true, false) => state.logs.store.end_seq(),
        _ => state.logs.first_visible(rows),
    }
}

fn jump_hit(state: &mut State, forward: bool) {
    let nav = &state.logs.nav;
    let hits = &nav.hits;
    // From the current hit (exclusive), else from the view: the top line itself counts.
    let (from, inclusive) = match nav.current {
        Some(c) => (c, false),
        None => (from_here(state, forward), forward),
    };
    let target = if forward {
        let i = hits.partition_point(|s| if inclusive { *s < from } else { *s <= from });
        hits.get(i).copied()
    } else {
        hits.partition_point(|s| *s < from)
            .checked_sub(1)
            .and_then(|i| hits.get(i).copied())
    };
    if let Some(seq) = target {
        state.logs.nav.current = Some(seq);
        show_at(state, seq);
    }
}

/// lnav's w/W (and e/E's twin): the next line badged `severity` at the top of a paused view.
fn jump_severity(state: &mut State, forward: bool, severity: Severity) {
    let from = from_here(state, forward);
    if let Some(seq) = state.logs.store.find(from, forward, severity) {
        show_at(state, seq);
    }
}

/// Bytes to skip when drawing `text`: the leading executor timestamp when hidden (`t`).
pub(crate) fn hidden_prefix(nav: &LogNav, text: &str) -> usize {
    if !nav.hide_timestamps {
        return 0;
    }
    let b = text.as_bytes();
    let looks = b.len() > 20 && b.get(4) == Some(&b'-') && b.get(10) == Some(&b'T');
    if !looks {
        return 0;
    }
    let end = text.find(' ').unwrap_or(0);
    end + text[end..].len() - text[end..].trim_start().len()
}

#[cfg(test)]
#[path = "lognav_tests.rs"]
mod tests;
