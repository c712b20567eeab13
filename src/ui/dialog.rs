//! The confirmation dialog: exactly what will be sent, to which object, what the operator
//! will do next, and two buttons with Cancel focused first. Also the read-only explanation
//! for the paths that are guided in a later version.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::clean;
use super::decision::failing_green_warning;
use super::theme::Theme;
use crate::app::{Button, Dialog, State};

/// Wide enough for the patch body on one line when the terminal allows.
const DIALOG_WIDTH: u16 = 112;

pub(crate) fn render(state: &State, dialog: &Dialog, t: Theme, frame: &mut Frame, area: Rect) {
    let width = area.width.min(DIALOG_WIDTH);
    let (title, mut body, buttons) = match dialog {
        Dialog::ConfirmRetry { target, focus } => (
            " Acknowledge break glass: retry the rollback ",
            confirm_lines(state, target, width.saturating_sub(2), t),
            vec![
                ("[ Cancel ]", *focus == Button::Cancel),
                ("[ Acknowledge ]", *focus == Button::Acknowledge),
            ],
        ),
        Dialog::ConfirmRevert { target, focus } => (
            " Follow-up: revert spec.version to Blue's ",
            revert_lines(state, target, t),
            vec![
                ("[ Cancel ]", *focus == Button::Cancel),
                ("[ Revert ]", *focus == Button::Acknowledge),
            ],
        ),
        Dialog::ConfirmPause { target, focus } => (
            super::dialog_pause::title(target),
            super::dialog_pause::lines(state, target, t),
            vec![
                ("[ Cancel ]", *focus == Button::Cancel),
                (
                    super::dialog_pause::button(target),
                    *focus == Button::Acknowledge,
                ),
            ],
        ),
        Dialog::ConfirmRestoreAck { target, focus } => (
            " Restore in phase Unknown: Resume or Abandon ",
            super::dialog_pause::restore_ack_lines(state, target, t),
            vec![
                ("[ Cancel ]", *focus == Button::Cancel),
                (
                    if target.choice == crate::domain::restore::Disposition::Abandon {
                        "[ Abandon ]"
                    } else {
                        "[ Resume ]"
                    },
                    *focus == Button::Acknowledge,
                ),
            ],
        ),
        Dialog::Explain { path } => (
            " What this path really does ",
            explain_lines(*path, state.line(), t),
            vec![("[ Close ]", true)],
        ),
    };
    // Re-opened on a fresh object (the previous one changed under it): say why, first.
    if let Some(why) = &state.decision.reopened
        && !matches!(dialog, Dialog::Explain { .. })
    {
        body.insert(
            0,
            Line::from(vec![
                Span::styled("[RE-OPENED]", t.warn()),
                Span::raw(format!(" {}.", clean(why))),
            ]),
        );
    }
    // Last: what matters for the decision comes first at 80x24 (j/↓ scroll to the rest).
    body.extend(kubectl_lines(
        t,
        dialog.kubectl(),
        width.saturating_sub(2),
        "y",
    ));
    let inner_w = usize::from(width.saturating_sub(2)).max(1);
    let text_rows: usize = body
        .iter()
        .map(|l| l.width().div_ceil(inner_w).max(1))
        .sum();
    let rect = centered(
        area,
        width,
        u16::try_from(text_rows + 4).unwrap_or(u16::MAX),
    );
    if rect.width < 3 || rect.height < 3 {
        return;
    }
    frame.render_widget(Clear, rect);
    let mut block = Block::bordered()
        .title(Span::styled(title, t.label()))
        .border_style(t.border(true));
    let inner = block.inner(rect);
    let [text, _, row] = Layout::vertical([
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let scroll;
    (block, scroll) = scrolled(block, text_rows, text.height, state.overlay_scroll, "j");
    frame.render_widget(block, rect);
    frame.render_widget(
        Paragraph::new(body)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        text,
    );
    let mut spans = Vec::new();
    for (label, focused) in buttons {
        spans.push(Span::raw("  "));
        spans.push(if focused {
            Span::styled(label, t.selected())
        } else {
            Span::raw(label)
        });
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), row);
}

fn confirm_lines(
    state: &State,
    target: &crate::app::RetryTarget,
    inner_width: u16,
    t: Theme,
) -> Vec<Line<'static>> {
    let mut out = failing_green_warning(state, t);
    if state.selected_path() == crate::domain::paths::PathKind::FixForward {
        out.push(Line::styled(
            "Fix forward with this operator is this acknowledgement: it retries the ROLLBACK to Blue; it does not stay on Green.",
            t.warn(),
        ));
    }
    out.push(target_line(
        t,
        format!(
            "OpenBaoCluster {}/{}",
            state.opts.namespace, state.opts.cluster
        ),
    ));
    let body = target.patch_body();
    if body.chars().count() <= usize::from(inner_width) {
        out.push(Line::styled("JSON merge patch, sent exactly:", t.label()));
        out.push(Line::styled(body, t.info()));
    } else {
        // Too narrow for one line: break between the two objects, never inside a value.
        out.push(Line::styled(
            "JSON merge patch, sent exactly (one line, split here for width):",
            t.label(),
        ));
        let split = body.find(",\"spec\"").map_or(body.len(), |i| i + 1);
        let (a, b) = body.split_at(split);
        out.push(Line::styled(a.to_string(), t.info()));
        out.push(Line::styled(b.to_string(), t.info()));
    }
    out.extend(next_lines(state, t));
    // Live check: the dialog sends what it shows, so say when that no longer holds.
    if let Err(reason) = crate::app::writes::still_valid(state, &target.patch) {
        out.push(changed_line(
            t,
            &reason.to_string(),
            "Acknowledge will send nothing",
        ));
    }
    out
}

/// The same request as a kubectl command line (derived from the request itself, so it
/// carries the exact body), for a colleague to check or repeat by hand; what kubectl cannot
/// carry is said. Wrapped to `width` with shell continuations (`kubectl_cmd::wrap`), a
/// here-document's body as YAML folded to `width` (`heredoc::fit`), so no row is cut and
/// the rows pasted into a shell are the same command; `y` copies it whole.
/// `copy` names the key that copies it where it is shown (`y`; the wizard: `Ctrl-Y`, as `y`
/// is typed into its name and key fields).
pub(crate) fn kubectl_lines(
    t: Theme,
    cmd: Option<crate::domain::kubectl_cmd::Command>,
    width: u16,
    copy: &str,
) -> Vec<Line<'static>> {
    let Some(cmd) = cmd else {
        return Vec::new();
    };
    let mut out = vec![Line::styled(
        format!(
            "Same request by kubectl (this context; add --dry-run=server to try; {copy} copies):"
        ),
        t.label(),
    )];
    out.extend(
        crate::domain::kubectl_cmd::wrap(
            &super::heredoc::fit(&cmd.line, usize::from(width)),
            usize::from(width),
        )
        .into_iter()
        .map(|row| Line::styled(clean(&row), t.dim())),
    );
    if let Some(c) = cmd.caveat {
        out.push(Line::styled(c, t.warn()));
    }
    out
}

/// A confirmation's first line: the object the request is sent to.
pub(crate) fn target_line(t: Theme, target: String) -> Line<'static> {
    Line::from(vec![Span::styled("Target  ", t.label()), Span::raw(target)])
}

/// The live check's warning in a confirmation: what changed since the dialog opened, and
/// that confirming now sends nothing.
pub(crate) fn changed_line(t: Theme, reason: &str, consequence: &str) -> Line<'static> {
    Line::from(vec![
        Span::styled("[CHANGED]", t.error()),
        Span::raw(format!(" {}: {consequence}.", clean(reason))),
    ])
}

/// What the operator of the detected line does after the acknowledgement: the step it
/// reruns, and that line's warnings (abort and Blue-peer removal on 0.1, Green's data on
/// 0.6), with the quorum impact lines they carry.
fn next_lines(state: &State, t: Theme) -> Vec<Line<'static>> {
    use crate::domain::path_truth;
    let line = state.line();
    let mut out = vec![Line::styled(
        format!("What the operator does next ({}):", line.header()),
        t.label(),
    )];
    out.push(Line::raw(
        "- breakGlass.active=false within ~5 s; a cause that is not transient fails again with a NEW nonce.",
    ));
    out.extend(
        path_truth::warnings(crate::domain::paths::PathKind::Retry, &state.incident, line)
            .into_iter()
            .map(|w| Line::raw(format!("- {}", clean(&w)))),
    );
    out
}

fn revert_lines(
    state: &State,
    target: &crate::app::decide::RevertTarget,
    t: Theme,
) -> Vec<Line<'static>> {
    let mut out = vec![
        target_line(
            t,
            format!(
                "OpenBaoCluster {}/{}: spec.version {} → {}",
                state.opts.namespace, state.opts.cluster, target.from_version, target.to_version
            ),
        ),
        Line::styled(
            "JSON merge patch, sent exactly (after a dry run):",
            t.label(),
        ),
        Line::styled(clean(&target.patch.body), t.info()),
        Line::styled("What the operator does next:", t.label()),
    ];
    out.extend(
        target
            .consequences()
            .into_iter()
            .map(|c| Line::raw(format!("- {}", clean(&c)))),
    );
    if target.deletes_green() {
        let line = crate::domain::quorum::impact(
            &state.incident,
            crate::domain::quorum::Change::StopSide(crate::domain::Side::Green),
        );
        out.push(Line::raw(format!("- {}", clean(&line))));
    }
    if let Err(reason) = crate::app::writes::still_valid(state, &target.patch) {
        out.push(changed_line(
            t,
            &reason.to_string(),
            "Revert will send nothing",
        ));
    }
    out
}

fn explain_lines(
    path: crate::domain::paths::PathKind,
    line: crate::domain::generation::Line,
    t: Theme,
) -> Vec<Line<'static>> {
    let info = path.info(line);
    let mut out = vec![
        Line::styled(info.title, t.label()),
        Line::raw("Nothing is sent from this explanation."),
        Line::styled("What the operator really does:", t.label()),
    ];
    out.extend(info.reality.iter().map(|s| Line::raw(format!("- {s}"))));
    if path == crate::domain::paths::PathKind::FixForward {
        out.push(Line::styled(
            "Enter: review that acknowledgement (Cancel first); Esc: close, nothing sent.",
            t.label(),
        ));
    }
    if path == crate::domain::paths::PathKind::Restore {
        use crate::app::wizard::Step;
        out.push(Line::styled(
            "The steps in the order the code needs (irreversible ones need the cluster name typed):",
            t.label(),
        ));
        out.extend(
            Step::ALL
                .iter()
                .map(|s| Line::raw(format!("  {}", s.title()))),
        );
    }
    out
}

/// An overlay taller than the terminal: the scroll to draw it with (clamped to its `rows`,
/// estimated by width, with slack for the rows word wrap adds) and the bottom border saying
/// there is more below (`↓ more: KEY`) or that it is scrolled.
pub(crate) fn scrolled(
    block: Block<'static>,
    rows: usize,
    visible: u16,
    scroll: u16,
    key: &str,
) -> (Block<'static>, u16) {
    let visible = usize::from(visible);
    let max = rows + rows / 4;
    let scroll = usize::from(scroll).min(max.saturating_sub(visible));
    let block = if rows > visible + scroll {
        block.title_bottom(Line::from(format!(" ↓ more: {key} ")).right_aligned())
    } else if scroll > 0 {
        block.title_bottom(Line::from(" ↑ scrolled ").right_aligned())
    } else {
        block
    };
    (block, u16::try_from(scroll).unwrap_or(u16::MAX))
}

/// A box of at most `w`x`h` in the middle of `area`, never larger than it.
pub(crate) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

#[cfg(test)]
#[path = "dialog_tests.rs"]
mod tests;
