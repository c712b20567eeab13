//! The Raft pane: the computed signals with their thresholds, then one row per node
//! grouped Blue / Green (lag against the highest committed index), then a chart of the
//! highest Blue and Green committed index over the session (`raft_chart`) when there is
//! room. Rows never wrap: columns are dropped (least useful first) and pod names shortened
//! to `blue-0` until a row fits. The title names the source: real OpenBao nodes or
//! simulated endpoints (the simulator's pod annotation), nothing on a live cluster.
//!
//! Role (voter / non-voter), contact and healthy come from the token-gated endpoints;
//! without a token those cells say "needs token" (a refused one: "token rejected").

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme::Theme;
use super::{PaneView, clean, fmt_age, pane_block, raft_chart};
use crate::app::{Focus, State};
use crate::domain::raft::{self, SYNC_THRESHOLD};
use crate::domain::raft_history::{RaftSignals, STALL_ROUNDS};
use crate::domain::{Incident, Membership, RaftReading, Side};

/// Rows the chart needs (borders excluded) before it is drawn under the table.
const CHART_MIN_HEIGHT: u16 = 6;

pub(crate) fn render(state: &State, view: PaneView, frame: &mut Frame, area: Rect) {
    let block = pane_block(state, Focus::Raft, view, title_detail(&state.incident));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let t = view.theme;
    let width = usize::from(inner.width);
    let mut lines = lines(state, t, width);
    if view.collapsed {
        lines.truncate(1);
    }
    let text_rows = u16::try_from(lines.len()).unwrap_or(u16::MAX);
    let chart_room = inner.height.saturating_sub(text_rows);
    let (text_area, chart_area) = if !view.collapsed
        && chart_room >= CHART_MIN_HEIGHT
        && state.raft_history.points().len() >= 2
    {
        let [a, b] = ratatui::layout::Layout::vertical([
            ratatui::layout::Constraint::Length(text_rows),
            ratatui::layout::Constraint::Min(CHART_MIN_HEIGHT),
        ])
        .areas(inner);
        (a, Some(b))
    } else {
        (inner, None)
    };
    let max_scroll = text_rows.saturating_sub(text_area.height);
    let scroll = state.raft_scroll.min(max_scroll);
    // No wrap: a line that does not fit is clipped, never folded onto the next row.
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), text_area);
    if let Some(chart) = chart_area {
        raft_chart::render(&state.raft_history, t, frame, chart);
    }
}

/// The source, then the route when it is not the pod proxy.
fn title_detail(incident: &Incident) -> Option<String> {
    let route = incident.raft_route.as_deref().map(clean);
    match (source(&incident.raft), route) {
        (Some(s), Some(r)) => Some(format!("{s} {r}")),
        (s, r) => s.or(r),
    }
}

/// `real OpenBao nodes` / `simulated endpoints` when the pods say so.
fn source(readings: &[RaftReading]) -> Option<String> {
    let mut kinds = readings.iter().filter_map(|r| r.endpoints.as_deref());
    let first = kinds.next()?;
    let label = |k: &str| match k {
        "real" => "real OpenBao nodes".to_string(),
        "simulated" => "simulated endpoints".to_string(),
        other => clean(other),
    };
    Some(if kinds.all(|k| k == first) {
        label(first)
    } else {
        "mixed endpoints".to_string()
    })
}

fn lines(state: &State, t: Theme, width: usize) -> Vec<Line<'static>> {
    let readings = &state.incident.raft;
    if readings.is_empty() {
        return vec![Line::styled("no Raft readings yet", t.dim())];
    }
    let signals = RaftSignals::compute(readings, &state.incident.raft_members, &state.raft_history);
    let in_rollback = signals.green_voters_in_rollback(state.incident.cluster.as_ref());
    let mut out = signal_lines(&signals, readings, t, width, in_rollback == Some(true));
    let table = Table::fit(readings, width);
    out.push(Line::styled(table.header(), t.label()));
    for side in [Side::Blue, Side::Green, Side::Other] {
        let rows: Vec<&RaftReading> = readings.iter().filter(|r| r.side == side).collect();
        if rows.is_empty() {
            continue;
        }
        out.push(Line::styled(
            match side {
                Side::Blue => "Blue",
                Side::Green => "Green",
                Side::Other => "Other",
            },
            t.label(),
        ));
        for r in rows {
            out.push(table.row(state, r, t));
            if let Some(e) = &r.error
                && width >= 40
            {
                out.push(Line::styled(format!("  {}", clean(e)), t.dim()));
            }
        }
    }
    out
}

fn badge(ok: bool, bad: &'static str, t: Theme) -> Span<'static> {
    if ok {
        Span::styled("[ok]", t.ok())
    } else {
        Span::styled(bad, t.warn())
    }
}

/// The signals, each with its threshold; shorter wording below 60 columns.
fn signal_lines(
    s: &RaftSignals,
    readings: &[RaftReading],
    t: Theme,
    width: usize,
    in_rollback: bool,
) -> Vec<Line<'static>> {
    let narrow = width < 60;
    let short_pod = |pod: &str| {
        let side = readings
            .iter()
            .find(|r| r.pod == pod)
            .map_or(Side::Other, |r| r.side);
        short_label(pod, side)
    };
    let mut out = Vec::new();
    out.push(match s.blue_behind_green {
        None => Line::styled(
            if narrow {
                "Blue vs Green: not comparable"
            } else {
                "Blue vs Green: not comparable (a side has no committed index)"
            },
            t.dim(),
        ),
        Some(lag) => {
            let badge = badge(lag <= SYNC_THRESHOLD, "[LAG]", t);
            // The longest wording that fits (a cut one lost the point of it at 80 columns).
            let room = width.saturating_sub(badge.width());
            let text = [
                format!(
                    " Blue is {lag} entries behind Green (lag, not divergence; forward-path Syncing threshold {SYNC_THRESHOLD}, the rollback makes no index check)"
                ),
                format!(
                    " Blue is {lag} entries behind Green (lag, not divergence; Syncing max {SYNC_THRESHOLD})"
                ),
                format!(" Blue {lag} behind Green (lag; Syncing max {SYNC_THRESHOLD})"),
            ]
            .into_iter()
            .find(|f| f.chars().count() <= room)
            .unwrap_or_else(|| format!(" Blue {lag} behind (Syncing max {SYNC_THRESHOLD})"));
            Line::from(vec![badge, Span::raw(text)])
        }
    });
    let leaders = match s.leaders.as_slice() {
        [] => Line::from(vec![
            Span::styled("[NO LEADER]", t.error()),
            Span::raw(" no node answers is_self"),
        ]),
        [one] => Line::from(vec![
            Span::styled("[ok]", t.ok()),
            Span::raw(format!(" leader {}", short_pod(one.as_str()))),
        ]),
        many => Line::from(vec![
            Span::styled(format!("[{} LEADERS]", many.len()), t.error()),
            Span::raw(format!(
                " {}",
                many.iter()
                    .map(|p| short_pod(p.as_str()))
                    .collect::<Vec<_>>()
                    .join(" ")
            )),
        ]),
    };
    let stall = if s.apply_stalls.is_empty() {
        vec![Span::raw(if narrow {
            " no apply stall".to_string()
        } else {
            format!(" no apply stall (last {STALL_ROUNDS} readings)")
        })]
    } else {
        vec![
            Span::styled(" [APPLY STALL]", t.error()),
            Span::raw(format!(
                " {}",
                s.apply_stalls
                    .iter()
                    .map(|p| short_pod(p.as_str()))
                    .collect::<Vec<_>>()
                    .join(" ")
            )),
        ]
    };
    let mut l = leaders.spans;
    l.push(Span::raw(" ·"));
    l.extend(stall);
    out.push(Line::from(l));
    // "needs token" is a state, not a problem; a refused token or a failed read is.
    let unknown_style = |note: &str| {
        if note == "needs token" {
            t.dim()
        } else {
            t.warn()
        }
    };
    // Green still votes while the operator rolls back: what "fix forward" would keep.
    let label = |wide: bool| match (in_rollback, wide) {
        (true, _) => Span::styled("[GREEN VOTERS] ", t.warn()),
        (false, true) => Span::raw("Green voters: "),
        (false, false) => Span::raw("Green voters "),
    };
    let line = match &s.members_note {
        // Neither is known: said once, with why.
        Some(note) => vec![
            if in_rollback {
                label(true)
            } else {
                Span::raw(if narrow {
                    "voters · tolerance: "
                } else {
                    "Green voters · failure tolerance: "
                })
            },
            Span::styled(note.clone(), unknown_style(note)),
        ],
        None => {
            let voters = match &s.green_voters {
                Some(v) if !v.is_empty() => Span::styled(
                    v.iter()
                        .map(|p| short_pod(p.as_str()))
                        .collect::<Vec<_>>()
                        .join(" "),
                    t.warn(),
                ),
                _ => Span::raw(s.green_voters_label()),
            };
            let tolerance = match s.failure_tolerance {
                Some(0) => Span::styled("0", t.error()),
                _ => Span::raw(s.failure_tolerance_label()),
            };
            // The longest wording that fits the pane (a cut one lost the tolerance).
            let forms = [
                (true, " · failure tolerance: "),
                (false, " · tolerance "),
                (false, " · tol "),
            ];
            let fits = |(wide, sep): &(bool, &str)| {
                label(*wide).width() + voters.width() + sep.chars().count() + tolerance.width()
                    <= width
            };
            let (wide, sep) = forms
                .iter()
                .copied()
                .find(|f| fits(f) && !(narrow && f.0))
                .unwrap_or((false, " · tol "));
            vec![label(wide), voters, Span::raw(sep), tolerance]
        }
    };
    out.push(Line::from(line));
    out
}

/// `blue-0`: the side and the pod's ordinal.
fn short_label(pod: &str, side: Side) -> String {
    let ordinal = pod.rsplit('-').next().unwrap_or("?");
    format!("{}-{ordinal}", side.label())
}

/// One table column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Pod,
    Role,
    Committed,
    Applied,
    Lag,
    Contact,
    Healthy,
    Age,
}

impl Col {
    fn head(self) -> &'static str {
        match self {
            Col::Pod => "pod",
            Col::Role => "role",
            Col::Committed => "committed",
            Col::Applied => "applied",
            Col::Lag => "lag",
            Col::Contact => "contact",
            Col::Healthy => "healthy",
            Col::Age => "age",
        }
    }
}

/// Most useful first: columns are dropped from the end until a row fits.
const PRIORITY: [Col; 8] = [
    Col::Pod,
    Col::Role,
    Col::Committed,
    Col::Lag,
    Col::Age,
    Col::Applied,
    Col::Healthy,
    Col::Contact,
];

/// The columns (in display order) and widths that fit the pane.
struct Table {
    cols: Vec<(Col, usize)>,
    short_names: bool,
}

impl Table {
    fn fit(readings: &[RaftReading], width: usize) -> Table {
        let max_num = readings
            .iter()
            .flat_map(|r| [r.committed, r.applied])
            .flatten()
            .max()
            .map_or(1, |n| n.to_string().len());
        let num = max_num.max(7);
        let full_pod = readings
            .iter()
            .map(|r| r.pod.chars().count())
            .max()
            .unwrap_or(3);
        let widths = |short: bool, role: usize| -> Vec<(Col, usize)> {
            PRIORITY
                .iter()
                .map(|&c| {
                    let w = match c {
                        Col::Pod if short => 7,
                        Col::Pod => full_pod.max(3),
                        Col::Role => role,
                        Col::Committed => num.max(9),
                        Col::Applied => num,
                        Col::Lag => 6,
                        Col::Contact => 7,
                        Col::Healthy => 7,
                        Col::Age => 4,
                    };
                    (c, w)
                })
                .collect()
        };
        let total = |cols: &[(Col, usize)]| cols.iter().map(|(_, w)| w + 1).sum::<usize>() - 1;
        // Prefer every column with short names over full names with fewer columns.
        for (short, role) in [(false, 11), (true, 11), (true, 8)] {
            let all = widths(short, role);
            if total(&all) <= width {
                return Table::ordered(all, short);
            }
        }
        let mut cols = widths(true, 8);
        while cols.len() > 1 && total(&cols) > width {
            cols.pop();
        }
        Table::ordered(cols, true)
    }

    /// Back into display order.
    fn ordered(mut cols: Vec<(Col, usize)>, short_names: bool) -> Table {
        let order = |c: Col| c as u8;
        cols.sort_by_key(|(c, _)| order(*c));
        Table { cols, short_names }
    }

    fn header(&self) -> String {
        let cells: Vec<String> = self
            .cols
            .iter()
            .map(|&(c, w)| align(c, c.head(), w))
            .collect();
        cells.join(" ")
    }

    fn row(&self, state: &State, r: &RaftReading, t: Theme) -> Line<'static> {
        let members = &state.incident.raft_members;
        let role = raft::role(r, members);
        let lag = raft::lag(r, &state.incident.raft);
        let num = |v: Option<u64>| v.map_or("-".to_string(), |n| n.to_string());
        let health = members.member(&r.pod).and_then(|m| m.health.as_ref());
        let mut spans = Vec::new();
        let mut cols = self.cols.iter().copied().peekable();
        let mut first = true;
        while let Some((c, w)) = cols.next() {
            if !first {
                spans.push(Span::raw(" "));
            }
            first = false;
            // Contact and healthy unknown: one cell across both says why.
            if c == Col::Contact
                && let Some(note) = unknown_cell(members)
                && let Some(&(Col::Healthy, hw)) = cols.peek()
            {
                cols.next();
                let style = if matches!(members, Membership::NeedsToken) {
                    t.dim()
                } else {
                    t.warn()
                };
                spans.push(Span::styled(align(Col::Pod, note, w + 1 + hw), style));
                continue;
            }
            let (text, style) = match c {
                Col::Pod => (self.label(r), Style::new()),
                Col::Role => {
                    let text = match role {
                        "unreachable" if w < 11 => "unreach",
                        "non-voter" if w < 9 => "nonvoter",
                        other => other,
                    };
                    let style = match role {
                        "leader" => t.info(),
                        "unreachable" | "sealed" => t.error(),
                        _ => Style::new(),
                    };
                    (text.to_string(), style)
                }
                Col::Committed => (num(r.committed), Style::new()),
                Col::Applied => (num(r.applied), Style::new()),
                Col::Lag => match lag {
                    Some(l) if l > SYNC_THRESHOLD => (format!("{l}!"), t.warn()),
                    other => (num(other), Style::new()),
                },
                // autopilot/state (token-gated).
                Col::Contact => match health.and_then(|h| h.last_contact_ms) {
                    Some(ms) => (fmt_contact(ms), Style::new()),
                    None => ("-".to_string(), t.dim()),
                },
                Col::Healthy => match health.map(|h| h.healthy) {
                    Some(true) => ("yes".to_string(), t.ok()),
                    Some(false) => ("NO".to_string(), t.warn()),
                    None => ("-".to_string(), t.dim()),
                },
                Col::Age => {
                    // An unreachable node's data is as old as its last answer ("-": none).
                    let at = if r.reachable {
                        Some(r.at)
                    } else {
                        state.raft_history.last_ok(&r.pod)
                    };
                    match at {
                        Some(at) if r.reachable => (
                            fmt_age(state.now.duration_since(at).as_secs().max(0)),
                            Style::new(),
                        ),
                        Some(at) => (
                            format!(
                                "{}!",
                                fmt_age(state.now.duration_since(at).as_secs().max(0))
                            ),
                            t.warn(),
                        ),
                        None => ("-".to_string(), t.warn()),
                    }
                }
            };
            spans.push(Span::styled(align(c, &text, w), style));
        }
        Line::from(spans)
    }

    fn label(&self, r: &RaftReading) -> String {
        if self.short_names {
            short_label(&r.pod, r.side)
        } else {
            r.pod.clone()
        }
    }
}

/// What the contact/healthy cells say when autopilot was not read.
fn unknown_cell(members: &Membership) -> Option<&'static str> {
    match members {
        Membership::NeedsToken => Some("needs token"),
        Membership::Rejected => Some("token rejected"),
        Membership::Unavailable(_) => Some("unavailable"),
        Membership::Known(_) => None,
    }
}

/// Autopilot's last contact: `0.0s` under a minute, else `2m`.
fn fmt_contact(ms: u64) -> String {
    if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        fmt_age(i64::try_from(ms / 1000).unwrap_or(i64::MAX))
    }
}

/// Text columns left, numbers right, cut to the width.
fn align(c: Col, text: &str, w: usize) -> String {
    let text: String = text.chars().take(w).collect();
    match c {
        Col::Pod | Col::Role | Col::Healthy => format!("{text:<w$}"),
        _ => format!("{text:>w$}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    fn reading(pod: &str, side: Side, c: u64) -> RaftReading {
        RaftReading {
            pod: pod.into(),
            side,
            committed: Some(c),
            applied: Some(c),
            is_leader: false,
            leader_address: None,
            reachable: true,
            sealed: false,
            endpoints: Some("real".into()),
            error: None,
            at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_table_fits_every_width_by_dropping_columns() {
        let rs = vec![
            reading("prod-cluster-e8983038c519c718-0", Side::Blue, 48210),
            reading("prod-cluster-269c4f7ba494030d-0", Side::Green, 48247),
        ];
        for width in [20, 30, 38, 48, 60, 76, 98, 158] {
            let table = Table::fit(&rs, width);
            assert!(table.header().chars().count() <= width, "{width}");
        }
        assert_eq!(Table::fit(&rs, 158).cols.len(), 8);
        assert!(!Table::fit(&rs, 158).short_names);
        assert!(Table::fit(&rs, 48).short_names);
        assert_eq!(source(&rs).as_deref(), Some("real OpenBao nodes"));
    }
}
