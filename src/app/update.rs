//! The pure `update`: one message in, state changed, effects out. No I/O, no clock reads.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::dialog::{Dialog, Press};
use super::keymap::{self, Action, Context};
use super::lognav;
use super::msg::{ActionOutcome, SourceEvent, SourceName};
use super::state::{Focus, Presence, State, attempt_of};
use super::{Effect, Msg};
use super::{decide, pause_repair, restore_ack, wizard_flow, writes};
use crate::domain::paths::{self, PathKind};
use crate::domain::rollback_jobs::RollbackStep;
use crate::journal::Event;
use crate::ui::layout;

pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    let effects = step(state, msg);
    // A dialog or the wizard opens at its top.
    if state.dialog.is_none() && state.wizard.is_none() {
        state.overlay_scroll = 0;
    }
    effects
}

fn step(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Tick(now) => {
            state.now = now;
            if state.write.expire(now) {
                state.decision.notice = Some("write mode expired: read-only again".into());
                if matches!(
                    state.dialog,
                    Some(Dialog::ConfirmRetry { .. } | Dialog::ConfirmPause { .. })
                ) {
                    state.dialog = None;
                }
            }
            Vec::new()
        }
        Msg::Resize { width, height } => {
            state.size = (width, height);
            Vec::new()
        }
        Msg::Source(SourceEvent::Restore(ev)) => wizard_flow::on_restore(state, ev),
        Msg::Source(SourceEvent::Events(list)) => decide::on_events(state, list),
        Msg::Source(ev) => {
            let before = matches!(
                ev,
                SourceEvent::Cluster(_) | SourceEvent::Pods(_) | SourceEvent::Jobs(_)
            )
            .then(|| state.incident.clone());
            let mut effects = on_action_outcome(state, &ev);
            effects.extend(wizard_flow::start_following(state, &ev));
            on_source(state, ev);
            if let Some(before) = before {
                effects.extend(decide::observed(state, &before));
            }
            effects
        }
        Msg::Key(key) => on_key(state, &key),
    }
}

fn on_source(state: &mut State, ev: SourceEvent) {
    let now = state.now;
    let fresh = |state: &mut State, name: SourceName| {
        let s = state.sources.entry(name).or_default();
        s.last_update = Some(now);
        s.problem = None;
    };
    match ev {
        SourceEvent::Cluster(view) => {
            fresh(state, SourceName::Cluster);
            state.unparseable = None;
            state.presence = if view.is_some() {
                Presence::Present
            } else {
                Presence::Missing
            };
            state.incident.cluster = view;
            writes::reopen_after_conflict(state);
        }
        SourceEvent::ClusterUnparseable(message) => {
            // Not fresh data: the previous view is kept, and Retry is disabled.
            state.unparseable = Some(message);
        }
        SourceEvent::Pods(pods) => {
            fresh(state, SourceName::Pods);
            state.incident.pods = pods;
        }
        SourceEvent::Jobs(jobs) => {
            fresh(state, SourceName::Jobs);
            state.incident.set_jobs(jobs);
        }
        SourceEvent::Raft(snapshot) => {
            fresh(state, SourceName::Raft);
            state.raft_history.push(&snapshot.readings);
            state.incident.raft = snapshot.readings;
            state.incident.raft_members = snapshot.members;
            state.incident.raft_route = snapshot.route;
        }
        SourceEvent::LogAttempt { job, run_id } => {
            fresh(state, SourceName::Logs);
            let number = attempt_of(run_id.as_deref());
            let attempt = number.map_or("?".into(), |a| a.to_string());
            // A cleanup Job (RollbackCleanup) is marked as such; repair attempts as before.
            let step = state
                .incident
                .all_jobs
                .iter()
                .find(|j| j.name == job)
                .and_then(|j| RollbackStep::of_action(j.action.as_deref()?));
            let kind = match step {
                Some(RollbackStep::Cleanup) => "cleanup attempt",
                _ => "attempt",
            };
            state.logs.store.begin_attempt(
                number,
                &format!(
                    "── {kind} {attempt}: {} (job {job}) ──",
                    run_id.as_deref().unwrap_or("unknown run")
                ),
            );
            // Never silent about what is written to disk (the follower writes it).
            match &state.logs.saved_to {
                Some(Ok(dir)) => state
                    .logs
                    .store
                    .push_marker(&format!("   saving this attempt's log to {dir}/{job}.log")),
                Some(Err(e)) => state.logs.store.push_marker(&format!("   {e}")),
                None => 0,
            };
            state.logs.job = Some(job);
            state.logs.run_id = run_id;
            state.logs.ended = false;
        }
        SourceEvent::EvidenceNotSaved(message) => {
            // Kept (title and footer) for the rest of the session: later lines do not
            // clear it, and the pane marks where saving stopped.
            state.logs.store.push_marker(&format!("   {message}"));
            state.logs.saved_to = Some(Err(message));
        }
        SourceEvent::LogLines { lines, .. } => {
            fresh(state, SourceName::Logs);
            for line in &lines {
                lognav::push_line(&mut state.logs, line);
            }
        }
        SourceEvent::LogGap {
            job,
            last_seen,
            first_after,
        } => {
            fresh(state, SourceName::Logs);
            state.logs.store.push_marker(&format!(
                "── GAP: the server no longer has lines between {last_seen} and {first_after}; some may be lost (job {job}) ──"
            ));
        }
        SourceEvent::LogEnded { job } => {
            fresh(state, SourceName::Logs);
            state
                .logs
                .store
                .push_marker(&format!("── stream ended (job {job}) ──"));
            state.logs.ended = true;
        }
        SourceEvent::Problem { source, message } => {
            state.sources.entry(source).or_default().problem = Some(message);
        }
        SourceEvent::Recovered { source } => {
            state.sources.entry(source).or_default().problem = None;
        }
        SourceEvent::Action(outcome) => {
            wizard_flow::on_outcome(state, &outcome);
            state.decision.in_flight = None;
            state.decision.notice = None;
            // A 409 changed nothing. A cluster patch's dialog re-opens on the fresh object
            // (once it is seen), saying why; a restore acknowledgement's too. A wizard
            // step's 409 (e.g. the restore already exists) is shown as it is.
            let conflict = state.wizard.is_none()
                && matches!(
                    outcome,
                    ActionOutcome::Failed {
                        status: Some(409),
                        ..
                    }
                );
            state.decision.outcome = Some(outcome);
            if conflict {
                writes::on_conflict(state);
            } else {
                // The action is over: back to read-only.
                state.decision.sent = None;
                state.write.leave();
            }
        }
        SourceEvent::Rbac(preflight) => state.rbac = Some(preflight),
        SourceEvent::Operator(signals) => state.incident.operator = signals,
        SourceEvent::Scope(ev) => {
            fresh(state, SourceName::Scope);
            state.scope_watch.on(ev);
        }
        SourceEvent::RestoreFacts { facts, key } => wizard_flow::on_facts(state, facts, key),
        // Journaled, so handled in `update` (with its effects) before it gets here.
        SourceEvent::Restore(_) | SourceEvent::Events(_) => {}
    }
}

/// The journal's record of how an action ended.
fn on_action_outcome(state: &State, ev: &SourceEvent) -> Vec<Effect> {
    let SourceEvent::Action(outcome) = ev else {
        return Vec::new();
    };
    let result = match outcome {
        ActionOutcome::Acknowledged {
            nonce,
            resource_version,
        } => format!("acknowledged nonce {nonce} (resourceVersion {resource_version})"),
        ActionOutcome::WizardStepDone => "restore wizard step accepted (dry run, then sent)".into(),
        ActionOutcome::Reverted { resource_version } => {
            format!("spec.version reverted to Blue's (resourceVersion {resource_version})")
        }
        ActionOutcome::Paused { resource_version } => {
            format!("spec.paused=true accepted (resourceVersion {resource_version})")
        }
        ActionOutcome::Refused { reason } => format!("refused, nothing sent: {reason}"),
        ActionOutcome::Failed { status, message } => {
            format!("failed ({}): {message}", status.unwrap_or(0))
        }
    };
    let action = match state.dialog_action.as_deref() {
        Some(a) => a.to_string(),
        None => "console action".into(),
    };
    state.journal(vec![Event::Outcome { action, result }])
}

/// The keymap contexts in effect, most specific first (also drives the footer hints).
pub fn contexts(state: &State) -> Vec<Context> {
    // The wizard takes every key while it is open (wizard_flow::on_key).
    if state.wizard.is_some() {
        vec![Context::Wizard, Context::Always]
    } else if state.help {
        vec![Context::Help, Context::Always]
    } else if state.dialog.is_some() {
        vec![Context::Dialog, Context::Always]
    } else if state.logs.nav.input.is_some() {
        vec![Context::LogInput, Context::Always]
    } else {
        let mut v = match state.focus {
            Focus::Logs => vec![Context::Logs],
            Focus::Decision => vec![Context::Decision],
            Focus::Health | Focus::Raft => vec![],
        };
        v.extend([Context::Pane, Context::Global, Context::Always]);
        v
    }
}

fn on_key(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
    if let Some(effects) = wizard_flow::on_key(state, key) {
        return effects;
    }
    let Some(action) = state.keys().lookup(&contexts(state), key) else {
        if !lognav::on_typed(state, key) {
            write_key_elsewhere(state, key);
        }
        return Vec::new();
    };
    if lognav::handle(state, action) {
        return Vec::new();
    }
    match action {
        Action::Quit => return vec![Effect::Quit],
        Action::Copy => return super::copy::copy(state),
        Action::ToggleHelp => state.help = true,
        Action::CloseHelp => {
            state.help = false;
            state.help_scroll = 0;
        }
        Action::HelpUp => state.help_scroll = state.help_scroll.saturating_sub(1),
        Action::HelpDown => {
            let n = u16::try_from(keymap::KEYMAP.len()).unwrap_or(u16::MAX);
            state.help_scroll = (state.help_scroll + 1).min(n.saturating_sub(1));
        }
        Action::FocusNext => state.focus = state.focus.cycle(true),
        Action::FocusPrev => state.focus = state.focus.cycle(false),
        Action::DialogNext | Action::DialogPrev => {
            if let Some(d) = state.dialog.as_mut() {
                d.move_focus();
            }
        }
        Action::DialogCancel => {
            state.dialog = None;
            state.decision.reopened = None;
        }
        Action::DialogPress => return press_dialog(state),
        Action::Activate => return activate(state),
        Action::Up | Action::Down if state.dialog.is_some() => {
            let delta = if action == Action::Up { -1 } else { 1 };
            scroll_overlay(state, delta);
        }
        Action::Up => scroll(state, -1),
        Action::Down => scroll(state, 1),
        Action::PageUp | Action::PageDown => {
            let sign = if action == Action::PageUp { -1 } else { 1 };
            match state.focus {
                Focus::Logs => {
                    let page = layout::visible_log_rows(state.size, state.focus).max(1);
                    scroll(state, sign * i64::from(page));
                }
                // j/k select a path; pages scroll its details.
                Focus::Decision => {
                    state.decision.scroll = add(state.decision.scroll, sign * TEXT_PAGE)
                }
                Focus::Health | Focus::Raft => scroll(state, sign * TEXT_PAGE),
            }
        }
        Action::Top => {
            let first = state.logs.store.first_seq();
            state.logs.follow = false;
            state.logs.top = first;
        }
        Action::Bottom => state.logs.follow = true,
        Action::ToggleFollow => {
            if state.logs.follow {
                pause_logs(state);
            } else {
                state.logs.follow = true;
            }
        }
        Action::NextError | Action::PrevError => jump_to_error(state, action == Action::NextError),
        Action::Left => state.logs.hscroll = state.logs.hscroll.saturating_sub(8),
        Action::Right => state.logs.hscroll = state.logs.hscroll.saturating_add(8).min(2_000),
        // Handled by `lognav::handle` above.
        Action::SearchStart
        | Action::FilterStart
        | Action::NextHit
        | Action::PrevHit
        | Action::NextWarn
        | Action::PrevWarn
        | Action::ClearQueries
        | Action::ToggleTimestamps
        | Action::ToggleWrap
        | Action::ToggleFold
        | Action::InputCommit
        | Action::InputCancel
        | Action::InputBackspace => {}
        // Handled by `wizard_flow::on_key` before this table (the wizard is open).
        Action::WizardConfirm | Action::WizardClose | Action::WizardBackspace => {}
        Action::RestoreAck => match restore_ack::allowed(state) {
            Ok(target) => state.dialog = Some(Dialog::confirm_restore_ack(target)),
            Err(reason) => {
                state.decision.notice =
                    Some(format!("Restore acknowledgement unavailable: {reason}"))
            }
        },
        Action::Revert => match writes::revert_allowed(state) {
            Ok(target) => state.dialog = Some(Dialog::confirm_revert(target)),
            Err(reason) => state.decision.notice = Some(format!("Revert unavailable: {reason}")),
        },
        Action::ToggleWrite => {
            if state.write.is_on(state.now) {
                state.write.leave();
                state.decision.notice = Some("read-only again".into());
            } else {
                state.write.enter(state.now);
                state.decision.notice = None;
            }
        }
    }
    Vec::new()
}

/// The write key pressed in the Health or Raft pane (it toggles write mode in the Decision
/// pane only; in the Logs pane it means "previous warning"): the footer says where it works
/// instead of nothing happening while the Decision pane reads "W: allow writes".
fn write_key_elsewhere(state: &mut State, key: &KeyEvent) {
    let write_key = state.write.key;
    let is_write_key = matches!(key.code, KeyCode::Char(c) if c == write_key)
        && !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
    if is_write_key && matches!(state.focus, Focus::Health | Focus::Raft) {
        state.footer_note = Some(super::copy::FooterNote {
            text: format!(
                "{write_key} toggles write mode in the Decision pane: Tab to it, then {write_key}"
            ),
            at: state.now,
        });
    }
}

/// lnav's e/E: put the next (previous) error line at the top of a paused view.
fn jump_to_error(state: &mut State, forward: bool) {
    let rows = layout::visible_log_rows(state.size, state.focus);
    let from = match (state.logs.follow, forward) {
        // Backwards from a followed tail includes the lines on screen.
        (true, false) => state.logs.store.end_seq(),
        _ => state.logs.first_visible(rows),
    };
    let error = crate::patterns::Severity::Error;
    let Some(seq) = state.logs.store.find(from, forward, error) else {
        return;
    };
    if state.logs.follow {
        pause_logs(state);
    }
    state.logs.top = seq;
}

/// Pause where the view is now: the tail as drawn.
fn pause_logs(state: &mut State) {
    let rows = layout::visible_log_rows(state.size, state.focus);
    state.logs.top = state.logs.tail_top(rows);
    state.logs.follow = false;
}

fn scroll(state: &mut State, delta: i64) {
    match state.focus {
        Focus::Health => state.health_scroll = add(state.health_scroll, delta),
        Focus::Raft => state.raft_scroll = add(state.raft_scroll, delta),
        Focus::Decision => {
            let n = paths::ALL.len() as i64;
            let i = (state.decision.selected as i64 + delta.signum()).clamp(0, n - 1);
            state.decision.selected = usize::try_from(i).unwrap_or(0);
            state.decision.scroll = 0;
        }
        Focus::Logs => {
            if state.logs.follow {
                if delta > 0 {
                    return;
                }
                pause_logs(state);
            }
            let rows = layout::visible_log_rows(state.size, state.focus);
            let top = state.logs.first_visible(rows);
            let moved = state.logs.step(top, delta);
            state.logs.top = moved.clamp(state.logs.store.first_seq(), state.logs.tail_top(rows));
        }
    }
}

/// Rows a page key moves a text pane (their height varies with layout; half of 80x24's).
const TEXT_PAGE: i64 = 8;

/// Text panes are short; the renderer clamps to the content, this only keeps a held key
/// from running far past it.
const MAX_TEXT_SCROLL: i64 = 200;

/// Scroll the open dialog or wizard (its renderer clamps to the content).
pub(crate) fn scroll_overlay(state: &mut State, delta: i64) {
    state.overlay_scroll = add(state.overlay_scroll, delta);
}

fn add(v: u16, delta: i64) -> u16 {
    u16::try_from((i64::from(v) + delta).clamp(0, MAX_TEXT_SCROLL)).unwrap_or(0)
}

fn activate(state: &mut State) -> Vec<Effect> {
    if state.selected_path() == PathKind::Restore {
        return wizard_flow::open(state);
    }
    match state.selected_path() {
        PathKind::PauseRepair => match writes::pause_allowed(state) {
            Ok(target) => state.dialog = Some(Dialog::confirm_pause(target)),
            Err(reason) => {
                state.decision.notice = Some(format!("Pause and repair unavailable: {reason}"))
            }
        },
        PathKind::Retry => match writes::retry_allowed(state) {
            Ok(target) => state.dialog = Some(Dialog::confirm_retry(target)),
            Err(reason) => state.decision.notice = Some(format!("Retry unavailable: {reason}")),
        },
        path => state.dialog = Some(Dialog::Explain { path }),
    }
    Vec::new()
}

fn press_dialog(state: &mut State) -> Vec<Effect> {
    let Some(dialog) = state.dialog.take() else {
        return Vec::new();
    };
    if dialog
        == (Dialog::Explain {
            path: PathKind::FixForward,
        })
    {
        fix_forward_as_retry(state);
        return Vec::new();
    }
    match dialog.press() {
        Press::Close => {
            state.decision.reopened = None;
            Vec::new()
        }
        Press::Revert(target) => writes::press(state, target.patch, "Revert to Blue's version"),
        Press::Pause(target) => pause_repair::press(state, target),
        Press::RestoreAck(target) => restore_ack::press(state, target),
        Press::Acknowledge(captured) => {
            let decision = if state.selected_path() == PathKind::FixForward {
                "Fix forward (= Retry with this operator)"
            } else {
                "Retry"
            };
            writes::press(state, captured.patch, decision)
        }
    }
}

/// Fix forward after its explanation: with this operator it is the acknowledgement, and
/// only while `spec.version` already is Green's. Opens the same confirmation (Cancel first).
fn fix_forward_as_retry(state: &mut State) {
    let green = crate::domain::diagnosis::green_version(&state.incident).map(|(v, _)| v);
    let spec = state
        .incident
        .cluster
        .as_ref()
        .map(|c| c.spec_version.clone());
    if green.is_none() || green != spec {
        state.decision.notice = Some(
            "fix forward: spec.version is not Green's; setting it is not carried out here".into(),
        );
        return;
    }
    match writes::retry_allowed(state) {
        Ok(target) => state.dialog = Some(Dialog::confirm_retry(target)),
        Err(reason) => state.decision.notice = Some(format!("Fix forward unavailable: {reason}")),
    }
}
