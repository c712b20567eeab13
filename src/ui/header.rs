//! The header line: where am I (context, namespace/cluster, operator line), read-only or
//! write mode, break glass elsewhere in the scope (or why that is not watched), and the
//! cluster badge (`[BREAK GLASS ACTIVE]`) on the right.
//!
//! `fit` is the pure layout: segments with priorities become one line for a width. Nothing
//! overlaps; when the line is too long the lowest-priority segment gives way first (shorter
//! form, then cut with a visible `…`, then dropped), so the mode and cluster badges stay
//! whole down to ~33 columns and are only cut when nothing else is left.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::clean;
use super::theme::Theme;
use crate::app::{Presence, State};
use crate::domain::generation::Line as GenLine;

/// Between two left segments.
const SEP: &str = " · ";
/// A cut segment keeps at least this many columns (including the `…`), else it is dropped.
const MIN_CUT: usize = 4;

/// Where a segment that no longer fits in its shortest form loses text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cut {
    /// Never cut: shorter forms, then dropped.
    No,
    /// `long-na…`
    End,
    /// `secu…/prod-cluster`: both ends stay readable (a namespace and a cluster name).
    Middle,
}

/// One piece of the header.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    /// Longest first; a shorter form is used before cutting.
    pub forms: Vec<String>,
    /// Higher is kept longer.
    pub priority: u8,
    pub cut: Cut,
    /// Right-aligned (the cluster badge); the others are joined by ` · ` from the left.
    pub right: bool,
    pub style: Style,
}

impl Segment {
    pub fn new(text: impl Into<String>, priority: u8, cut: Cut, style: Style) -> Self {
        Segment {
            forms: vec![text.into()],
            priority,
            cut,
            right: false,
            style,
        }
    }
}

fn width(s: &str) -> usize {
    Span::raw(s).width()
}

/// `s` in at most `max` columns, ending (or, `middle`, split) by `…`.
fn ellipsize(s: &str, max: usize, middle: bool) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let take = |chars: &mut dyn Iterator<Item = char>, room: usize| {
        let mut out = String::new();
        let mut used = 0;
        for c in chars {
            let mut buf = [0u8; 4];
            let w = width(c.encode_utf8(&mut buf));
            if used + w > room {
                break;
            }
            used += w;
            out.push(c);
        }
        out
    };
    let room = max.saturating_sub(1);
    if middle {
        let tail_room = room / 2;
        let head = take(&mut s.chars(), room - tail_room);
        let tail: String = take(&mut s.chars().rev(), tail_room)
            .chars()
            .rev()
            .collect();
        format!("{head}…{tail}")
    } else {
        format!("{}…", take(&mut s.chars(), room))
    }
}

/// The text each segment shows, or `None` when dropped.
fn shown(segments: &[Segment], cols: usize) -> Vec<Option<String>> {
    let mut out: Vec<Option<String>> = segments.iter().map(|s| s.forms.first().cloned()).collect();
    // An empty form shows nothing (and takes no separator).
    let total = |out: &[Option<String>]| {
        let mut left = 0;
        let mut n_left: usize = 0;
        let mut right = 0;
        for (seg, text) in segments.iter().zip(out) {
            let Some(t) = text.as_deref().filter(|t| !t.is_empty()) else {
                continue;
            };
            if seg.right {
                right += width(t);
            } else {
                left += width(t);
                n_left += 1;
            }
        }
        let seps = n_left.saturating_sub(1) * width(SEP);
        let gap = usize::from(left > 0 && right > 0);
        left + seps + gap + right
    };
    // Lowest priority first; among equals, the rightmost of the left group first. Every
    // segment takes its shorter forms before any is cut or dropped.
    let mut order: Vec<usize> = (0..segments.len()).collect();
    order.sort_by_key(|&i| (segments[i].priority, std::cmp::Reverse(i)));
    for &i in &order {
        for form in segments[i].forms.iter().skip(1) {
            if total(&out) <= cols {
                return out;
            }
            out[i] = Some(form.clone());
        }
    }
    for &i in &order {
        let seg = &segments[i];
        let over = total(&out).saturating_sub(cols);
        if over == 0 {
            return out;
        }
        let current = out[i].as_deref().map_or(0, width);
        let target = current.saturating_sub(over);
        out[i] = match seg.cut {
            Cut::End | Cut::Middle if target >= MIN_CUT.min(current) => out[i]
                .as_deref()
                .map(|t| ellipsize(t, target, seg.cut == Cut::Middle)),
            _ => None,
        };
    }
    out
}

/// The header for `width` columns: the left segments joined by ` · `, the right ones
/// flush right. Never wider than `width`.
pub(crate) fn fit(segments: &[Segment], cols: u16) -> Line<'static> {
    let cols = usize::from(cols);
    let texts = shown(segments, cols);
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut right: Vec<Span<'static>> = Vec::new();
    for (seg, text) in segments.iter().zip(texts) {
        let Some(t) = text.filter(|t| !t.is_empty()) else {
            continue;
        };
        if seg.right {
            right.push(Span::styled(t, seg.style));
        } else {
            if !spans.is_empty() {
                spans.push(Span::raw(SEP));
            }
            spans.push(Span::styled(t, seg.style));
        }
    }
    let mut line = Line::from(spans);
    let used = line.width() + right.iter().map(Span::width).sum::<usize>();
    if !right.is_empty() && used < cols {
        line.push_span(Span::raw(" ".repeat(cols - used)));
    }
    line.extend(right);
    line
}

pub(crate) fn segments(state: &State, t: Theme) -> Vec<Segment> {
    let (badge, style) = match state.presence {
        Presence::Waiting => ("[connecting…]".to_string(), t.dim()),
        Presence::Missing => ("[CLUSTER NOT FOUND]".to_string(), t.error()),
        Presence::Present => match state.incident.cluster.as_ref() {
            Some(c) if c.break_glass_active() => ("[BREAK GLASS ACTIVE]".into(), t.alarm()),
            Some(c) => (
                format!("[ok · {}]", clean(c.phase.as_deref().unwrap_or("no phase"))),
                t.ok(),
            ),
            None => ("[no data]".into(), t.dim()),
        },
    };
    let write_style = if state.write.is_on(state.now) {
        t.alarm()
    } else {
        t.ok()
    };
    // Unknown is a warning: the console then falls back to what every line shares. The
    // Health pane always names the line, so the header may drop it.
    let line = state.incident.generation().line;
    let op_style = if line == GenLine::Unknown {
        t.warn()
    } else {
        t.dim()
    };
    vec![
        // The program's name is the first to go: the operator knows what they run.
        Segment {
            forms: vec!["breakglass".into(), String::new()],
            ..Segment::new("", 10, Cut::No, t.label())
        },
        Segment::new(clean(&state.opts.context_label), 20, Cut::End, Style::new()),
        Segment::new(
            clean(&format!("{}/{}", state.opts.namespace, state.opts.cluster)),
            40,
            Cut::Middle,
            Style::new(),
        ),
        Segment::new(
            format!("[{}]", state.write.badge(state.now)),
            100,
            Cut::End,
            write_style,
        ),
        Segment {
            forms: vec![line.header().into(), format!("op {}", line.label())],
            ..Segment::new("", 30, Cut::End, op_style)
        },
        Segment {
            right: true,
            ..Segment::new(badge, 90, Cut::End, style)
        },
        // Break glass elsewhere in the scope: kept over the operator line and the context
        // (Health names the line; the context is on the user's prompt), down to `+1 in
        // break glass` at 80 columns; the help says more.
        Segment {
            forms: state
                .scope_watch
                .announcement(state.now)
                .unwrap_or_default()
                .iter()
                .map(|f| clean(f))
                .collect(),
            ..Segment::new("", 35, Cut::End, t.warn())
        },
        // The same watch turned off (401, RBAC, CRD not served): said, so a quiet header is
        // not read as "no other cluster in break glass". Low priority: the context gives way
        // to it, nothing else does; at 80 columns it shrinks to `others✗` (the help and
        // wider headers say why).
        Segment {
            forms: state
                .scope_watch
                .off
                .map(|off| off.header_forms())
                .unwrap_or_default(),
            ..Segment::new("", 25, Cut::No, t.warn())
        },
    ]
}

pub(crate) fn render(state: &State, t: Theme, frame: &mut Frame, area: Rect) {
    let line = fit(&segments(state, t), area.width);
    frame.render_widget(Paragraph::new(line), area);
}

#[cfg(test)]
#[path = "header_tests.rs"]
mod tests;
