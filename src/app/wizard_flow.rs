//! The Restore wizard inside the console: opening it (facts are read by the runtime),
//! its keys (typing the cluster name, Enter confirms one step, Esc cancels), and the
//! guarded sends. Pure like the rest of `update`.

use crossterm::event::{KeyCode, KeyEvent};

use super::Effect;
use super::keymap::{Action, Context};
use super::state::State;
use super::wizard::{Input, Output, Step, Wizard};
use super::writes::session_guard;
use crate::app::msg::{ActionOutcome, RestoreEvent, SourceEvent, SourceName};
use crate::domain::paths::PathKind;
use crate::domain::restore::Facts;
use crate::domain::restore_status::{Noted, RestoreFollow};
use crate::journal::Event;

/// Enter on the Restore path: ask the runtime for the facts (reads only).
pub(crate) fn open(state: &mut State) -> Vec<Effect> {
    state.decision.notice = Some("reading the snapshot, operator Deployment and PVCs…".into());
    vec![Effect::LoadRestoreFacts]
}

pub(crate) fn on_facts(state: &mut State, mut facts: Facts, key: Option<(String, String)>) {
    state.decision.notice = None;
    facts.line = state.line();
    let (key, source) = key.map_or((None, None), |(k, s)| (Some(k), Some(s)));
    let mut wizard = Wizard::new(facts, key);
    wizard.name_suffix = state.now.strftime("%m%d-%H%M%S").to_string();
    state.wizard = Some(wizard);
    state.wizard_key_source = source;
}

/// The answer to a wizard request.
pub(crate) fn on_outcome(state: &mut State, outcome: &ActionOutcome) {
    let Some(w) = state.wizard.as_mut() else {
        return;
    };
    match outcome {
        ActionOutcome::WizardStepDone => {
            w.on(Input::Done);
        }
        _ => w.waiting = false,
    }
}

/// Before the outcome is applied: if it answers the OpenBaoRestore's creation, start
/// following it (its status and its Job's log) and say so in the journal.
pub(crate) fn start_following(state: &mut State, ev: &SourceEvent) -> Vec<Effect> {
    let Some(w) = state.wizard.as_ref() else {
        return Vec::new();
    };
    if !(w.step == Step::CreateRestore
        && w.waiting
        && matches!(ev, SourceEvent::Action(ActionOutcome::WizardStepDone)))
    {
        return Vec::new();
    }
    let (namespace, name) = (w.facts.namespace.clone(), w.restore_name());
    let follow = RestoreFollow::new(&name);
    let what = format!(
        "following OpenBaoRestore {name} (status.phase, status.message) and Job {} (container restore)",
        follow.job
    );
    state.restore = Some(follow);
    let mut effects = state.journal(vec![Event::Observed { what }]);
    effects.push(Effect::FollowRestore { namespace, name });
    effects
}

/// What the restore follower saw: kept for the wizard's last step; phase and message
/// changes, the executor's error line and the outcome are journaled.
pub(crate) fn on_restore(state: &mut State, ev: RestoreEvent) -> Vec<Effect> {
    let Some(follow) = state.restore.as_mut() else {
        return Vec::new();
    };
    let source = state.sources.entry(SourceName::Restore).or_default();
    source.last_update = Some(state.now);
    source.problem = None;
    let noted = match ev {
        RestoreEvent::Status(status) => follow.on_status(status),
        RestoreEvent::Lines(lines) => follow.on_lines(lines),
        RestoreEvent::Gap(marker) => follow.on_lines(vec![marker]),
        RestoreEvent::LogEnded => {
            follow.log_ended = true;
            Vec::new()
        }
    };
    let action = format!("restore {}", follow.name);
    // A restore acknowledgement refused with 409 re-opens on the fresh status.
    super::writes::reopen_after_conflict(state);
    let events = noted
        .into_iter()
        .map(|n| match n {
            Noted::Observed(what) => Event::Observed { what },
            Noted::Outcome(result) => Event::Outcome {
                action: action.clone(),
                result,
            },
        })
        .collect();
    state.journal(events)
}

/// Keys while the wizard is open. None: not for the wizard (Ctrl-C still quits).
pub(crate) fn on_key(state: &mut State, key: &KeyEvent) -> Option<Vec<Effect>> {
    state.wizard.as_ref()?;
    let snapshot_step = state
        .wizard
        .as_ref()
        .is_some_and(|w| w.step == Step::Snapshot);
    let typing = snapshot_step || state.wizard.as_ref().is_some_and(|w| w.step.irreversible());
    let ctrl = key
        .modifiers
        .contains(crossterm::event::KeyModifiers::CONTROL);
    let input = match state.keys().lookup(&[Context::Wizard], key) {
        // `y` is typed where a name or a key is typed; Ctrl-Y copies everywhere.
        Some(Action::Copy) if ctrl || !typing => return Some(super::copy::copy(state)),
        Some(Action::WizardClose) => Input::Cancel,
        Some(Action::WizardConfirm) => Input::Confirm,
        Some(Action::WizardBackspace) => Input::Backspace,
        Some(action @ (Action::Up | Action::Down)) => {
            super::update::scroll_overlay(state, if action == Action::Up { -1 } else { 1 });
            return Some(Vec::new());
        }
        // Cluster names are lowercase DNS labels: W is the write-mode key, except where a
        // snapshot key (which may hold any visible character) is typed.
        Some(Action::ToggleWrite) if !snapshot_step => {
            if state.write.is_on(state.now) {
                state.write.leave();
            } else {
                state.write.enter(state.now);
            }
            return Some(Vec::new());
        }
        // Ctrl-C and the like: the general table (Context::Always).
        _ if ctrl => return None,
        _ => match key.code {
            KeyCode::Char(c) => Input::Type(c),
            _ => return Some(Vec::new()),
        },
    };
    let sends = matches!(
        state.wizard.as_ref().map(Wizard::request),
        Some(Ok(Some(_)))
    );
    let creates = state
        .wizard
        .as_ref()
        .is_some_and(|w| w.step == Step::CreateRestore);
    if input == Input::Confirm
        && sends
        && let Err(reason) = session_guard(state, PathKind::Restore).and_then(|()| {
            if creates {
                super::writes::ack_blocks_restore(state)
            } else {
                Ok(())
            }
        })
    {
        state.decision.notice = Some(reason.to_string());
        return Some(Vec::new());
    }
    let Some(wizard) = state.wizard.as_mut() else {
        return Some(Vec::new());
    };
    let output = wizard.on(input);
    let title = wizard.step.title();
    match output {
        Output::Nothing => state.decision.notice = None,
        Output::Refused(reason) => state.decision.notice = Some(reason),
        Output::Close => {
            state.wizard = None;
            state.decision.notice = Some("restore wizard closed; nothing more is sent".into());
        }
        Output::Send(request) => {
            state.decision.notice = None;
            state.dialog_action = Some(format!("restore wizard: {title}"));
            let mut effects =
                state.journal(vec![state.decision_event(&format!("Restore: {title}"))]);
            effects.push(Effect::WizardSend(request));
            return Some(effects);
        }
    }
    Some(Vec::new())
}
