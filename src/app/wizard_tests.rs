//! The Restore wizard's transition table, typed confirmation, and "cancel sends nothing".

use serde_json::json;

use super::*;

pub(crate) fn facts() -> Facts {
    Facts {
        namespace: "security".into(),
        cluster: "prod-cluster".into(),
        backup: Some(json!({
            "schedule": "0 * * * *",
            "target": {"provider": "s3", "endpoint": "https://s3.example", "bucket": "openbao-backups",
                       "credentialsSecretRef": {"name": "s3-creds"}},
            "jwtAuthRole": "backup",
        })),
        operator: Some(Operator {
            namespace: "openbao-operator-system".into(),
            name: "openbao-operator-controller".into(),
            replicas: 1,
        }),
        pvcs: vec!["data-a-0".into(), "data-a-1".into()],
        line: crate::domain::generation::Line::V01,
        restore_role: None,
        blue_revision: None,
    }
}

pub(crate) const KEY: &str = "security/prod-cluster/pre-upgrade-2026-11-23T09-41-07Z-1a2b3c4d.snap";

fn typed(w: &mut Wizard, s: &str) {
    for c in s.chars() {
        w.on(Input::Type(c));
    }
}

#[test]
fn the_full_walk_sends_each_request_once_after_its_own_confirmation() {
    let mut w = Wizard::new(facts(), Some(KEY.into()));
    // (step before, typed, expected output kind, step after answering Done)
    assert_eq!(w.on(Input::Confirm), Output::Nothing);
    assert_eq!(w.step, Step::ScaleDown);
    let Output::Send(Request::Scale { replicas: 0, .. }) = w.on(Input::Confirm) else {
        panic!("scale down expected");
    };
    assert!(
        matches!(w.on(Input::Confirm), Output::Refused(_)),
        "waiting"
    );
    w.on(Input::Done);
    assert_eq!(w.step, Step::DeletePvcs);
    for pvc in ["data-a-0", "data-a-1"] {
        assert!(
            matches!(w.on(Input::Confirm), Output::Refused(r) if r.contains("type the cluster name"))
        );
        typed(&mut w, "prod-cluster");
        assert_eq!(
            w.on(Input::Confirm),
            Output::Send(Request::DeletePvc {
                namespace: "security".into(),
                name: pvc.into()
            })
        );
        w.on(Input::Done);
    }
    assert_eq!(w.step, Step::ScaleUp);
    let Output::Send(Request::Scale { replicas: 1, .. }) = w.on(Input::Confirm) else {
        panic!("scale up expected");
    };
    w.on(Input::Done);
    assert_eq!(w.step, Step::CreateRestore);
    typed(&mut w, "prod-cluste");
    assert!(
        matches!(w.on(Input::Confirm), Output::Refused(_)),
        "a wrong name is refused"
    );
    typed(&mut w, "r");
    let Output::Send(Request::CreateRestore { body, .. }) = w.on(Input::Confirm) else {
        panic!("restore expected");
    };
    assert_eq!(body["spec"]["force"], true);
    assert_eq!(body["spec"]["overrideOperationLock"], true);
    assert_eq!(body["spec"]["source"]["key"], KEY);
    assert_eq!(
        body["spec"]["source"]["target"]["bucket"],
        "openbao-backups"
    );
    // The restore's own role (spec.restore.jwtAuthRole, default), never the backup role.
    assert_eq!(body["spec"]["jwtAuthRole"], "openbao-operator-restore");
    w.on(Input::Done);
    assert_eq!(w.step, Step::Follow);
}

#[test]
fn cancel_at_any_step_closes_and_sends_nothing() {
    for steps_done in 0..4 {
        let mut w = Wizard::new(facts(), Some(KEY.into()));
        for _ in 0..steps_done {
            typed(&mut w, "prod-cluster");
            if matches!(w.on(Input::Confirm), Output::Send(_)) {
                w.on(Input::Done);
            }
        }
        assert_eq!(
            w.on(Input::Cancel),
            Output::Close,
            "after {steps_done} steps"
        );
    }
}

#[test]
fn missing_facts_refuse_with_the_reason() {
    let mut f = facts();
    f.operator = None;
    let mut w = Wizard::new(f, None);
    assert!(matches!(w.on(Input::Confirm), Output::Refused(r) if r.contains("snapshot key")));
    w.key = Some(KEY.into());
    w.on(Input::Confirm);
    assert!(
        matches!(w.on(Input::Confirm), Output::Refused(r) if r.contains("operator Deployment"))
    );
    // No backup auth at all: the restore's own role (self-init OIDC) is enough.
    let mut f = facts();
    f.backup = Some(json!({"target": {"bucket": "b"}}));
    f.restore_role = Some("my-restore".into());
    assert_eq!(
        restore_body(&f, KEY, "r").unwrap()["spec"]["jwtAuthRole"],
        "my-restore"
    );
}

#[test]
fn on_the_06_line_the_restore_targets_blue_and_skips_the_scale_and_pvc_steps() {
    let mut f = facts();
    f.line = crate::domain::generation::Line::V06;
    f.blue_revision = Some("e8983038c519c718".into());
    assert_eq!(
        f.target(),
        "StatefulSet prod-cluster-e8983038c519c718 (Blue)"
    );
    let mut w = Wizard::new(f, Some(KEY.into()));
    assert_eq!(w.on(Input::Confirm), Output::Nothing);
    assert_eq!(
        w.step,
        Step::CreateRestore,
        "no scale down, no PVC deletion"
    );
    assert!(!Step::DeletePvcs.applies(&w.facts));
    typed(&mut w, "prod-cluster");
    let Output::Send(Request::CreateRestore { body, .. }) = w.on(Input::Confirm) else {
        panic!("restore expected");
    };
    assert_eq!(body["spec"]["jwtAuthRole"], "openbao-operator-restore");
    assert_eq!(body["spec"]["force"], true);
    w.on(Input::Done);
    assert_eq!(w.step, Step::Follow);
}

#[test]
fn override_operation_lock_requires_force() {
    use crate::domain::restore::check_lock_override;
    assert!(check_lock_override(&json!({"force": true, "overrideOperationLock": true})).is_ok());
    assert!(check_lock_override(&json!({"force": false})).is_ok());
    assert!(
        check_lock_override(&json!({"overrideOperationLock": true}))
            .unwrap_err()
            .contains("requires force")
    );
}

#[test]
fn the_snapshot_key_and_its_age_come_from_the_job_log() {
    let line = format!("Backup completed successfully: {KEY} (size: 1234 bytes)");
    assert_eq!(key_from_log(&line).as_deref(), Some(KEY));
    assert_eq!(key_from_log("Backup failed"), None);
    assert_eq!(key_time(KEY), Some("2026-11-23T09:41:07Z".parse().unwrap()));
    assert_eq!(
        key_time("p/ns/c/2026-11-22T01-00-00Z-deadbeef.snap"),
        Some("2026-11-22T01:00:00Z".parse().unwrap())
    );
}

#[test]
fn a_typed_key_replaces_the_found_one_after_validation() {
    let mut w = Wizard::new(facts(), Some(KEY.into()));
    typed(&mut w, "my key");
    assert!(
        matches!(w.on(Input::Confirm), Output::Refused(r) if r.contains("whitespace")),
        "refused, and nothing advances"
    );
    assert_eq!(w.step, Step::Snapshot);
    for _ in 0.."my key".len() {
        w.on(Input::Backspace);
    }
    typed(&mut w, "ns/c/Weekly.snap");
    assert_eq!(w.on(Input::Confirm), Output::Nothing);
    assert_eq!(w.step, Step::ScaleDown);
    assert_eq!(w.key.as_deref(), Some("ns/c/Weekly.snap"));
    assert!(w.key_typed);
    assert!(
        w.typed.is_empty(),
        "the next step starts with an empty field"
    );
    // Control characters are refused too; no key found and nothing typed is refused.
    let mut w = Wizard::new(facts(), None);
    w.on(Input::Type('\u{7}'));
    assert!(matches!(w.on(Input::Confirm), Output::Refused(r) if r.contains("control")));
    w.on(Input::Backspace);
    assert!(matches!(w.on(Input::Confirm), Output::Refused(r) if r.contains("snapshot key")));
    assert_eq!(w.key, None);
}

#[test]
fn the_typed_key_goes_into_the_restore_body() {
    let mut w = Wizard::new(facts(), None);
    typed(&mut w, "typed/key.snap");
    w.on(Input::Confirm);
    w.step = Step::CreateRestore;
    let Ok(Some(Request::CreateRestore { body, .. })) = w.request() else {
        panic!("restore expected");
    };
    assert_eq!(body["spec"]["source"]["key"], "typed/key.snap");
    assert_eq!(body["metadata"]["name"], w.restore_name());
}

mod flow {
    //! The wizard inside `update`: creating the restore starts the follower, and what it
    //! sees is kept for the last step and journaled.

    use std::path::PathBuf;

    use super::*;
    use crate::app::fixtures::{feed, incident_state};
    use crate::app::msg::{ActionOutcome, RestoreEvent, SourceEvent};
    use crate::app::{Effect, Msg, State, update};
    use crate::domain::restore_status::RestoreStatus;
    use crate::journal::Event;

    fn at_create_restore() -> State {
        let mut s = incident_state(true);
        s.journal = Some(PathBuf::from("/nonexistent/journal.jsonl"));
        let mut w = Wizard::new(facts(), Some(KEY.into()));
        w.step = Step::CreateRestore;
        w.pending_pvcs.clear();
        w.waiting = true;
        s.wizard = Some(w);
        s
    }

    fn journaled(effects: &[Effect]) -> Vec<Event> {
        effects
            .iter()
            .flat_map(|e| match e {
                Effect::Journal { entries, .. } => {
                    entries.iter().map(|e| e.event.clone()).collect()
                }
                _ => Vec::new(),
            })
            .collect()
    }

    fn status(phase: &str, message: &str) -> Msg {
        Msg::Source(SourceEvent::Restore(RestoreEvent::Status(Some(
            RestoreStatus {
                phase: Some(phase.into()),
                message: Some(message.into()),
                snapshot_key: None,
                ..RestoreStatus::default()
            },
        ))))
    }

    #[test]
    fn the_created_restore_is_followed_and_its_phases_and_outcome_journaled() {
        let mut s = at_create_restore();
        let effects = update(
            &mut s,
            Msg::Source(SourceEvent::Action(ActionOutcome::WizardStepDone)),
        );
        assert!(effects.contains(&Effect::FollowRestore {
            namespace: "security".into(),
            name: "prod-cluster-restore-breakglass".into(),
        }));
        assert!(journaled(&effects).iter().any(
            |e| matches!(e, Event::Observed { what } if what.contains("following OpenBaoRestore prod-cluster-restore-breakglass"))
        ));
        assert_eq!(s.wizard.as_ref().map(|w| w.step), Some(Step::Follow));
        let follow = s.restore.as_ref().unwrap();
        assert_eq!(follow.job, "restore-prod-cluster-restore-breakglass");

        let mut events = Vec::new();
        for msg in [
            status("Validating", "Validating restore preconditions"),
            status("Running", "Restore job running"),
            Msg::Source(SourceEvent::Restore(RestoreEvent::Lines(vec![
                "Starting restore operation...".into(),
                "bao-restore error: failed to find leader: no leader found among 3 pods after 5 attempts".into(),
            ]))),
            Msg::Source(SourceEvent::Restore(RestoreEvent::LogEnded)),
            status(
                "Failed",
                "Restore job failed: Job has reached the specified backoff limit",
            ),
        ] {
            events.extend(journaled(&update(&mut s, msg)));
        }
        let text: Vec<String> = events.iter().map(|e| format!("{e:?}")).collect();
        assert_eq!(events.len(), 5, "{text:#?}");
        assert!(text[0].contains("created → Validating"));
        assert!(text[1].contains("Validating → Running: Restore job running"));
        assert!(text[2].contains("bao-restore error: failed to find leader"));
        assert!(text[3].contains("Running → Failed"));
        assert_eq!(
            events[4],
            Event::Outcome {
                action: "restore prod-cluster-restore-breakglass".into(),
                result: "Failed: Restore job failed: Job has reached the specified backoff limit"
                    .into()
            }
        );
        let follow = s.restore.as_ref().unwrap();
        assert!(follow.log_ended);
        assert_eq!(follow.lines.len(), 2);
    }

    #[test]
    fn other_outcomes_and_other_steps_start_no_follower() {
        let mut s = at_create_restore();
        let effects = update(
            &mut s,
            Msg::Source(SourceEvent::Action(ActionOutcome::Failed {
                status: Some(422),
                message: "invalid".into(),
            })),
        );
        assert!(
            !effects
                .iter()
                .any(|e| matches!(e, Effect::FollowRestore { .. }))
        );
        assert!(s.restore.is_none());
        // A 409 of a wizard step (the restore exists already) is shown, never answered
        // with the Retry dialog.
        let mut s = at_create_restore();
        update(
            &mut s,
            Msg::Source(SourceEvent::Action(ActionOutcome::Failed {
                status: Some(409),
                message: "already exists".into(),
            })),
        );
        assert!(s.dialog.is_none());
        assert!(s.wizard.as_ref().is_some_and(|w| !w.waiting));
        // Without a followed restore, restore events change nothing and journal nothing.
        assert!(update(&mut s, status("Running", "Restore job running")).is_empty());
        // A scale step's answer is not the restore's creation.
        let mut s = at_create_restore();
        if let Some(w) = s.wizard.as_mut() {
            w.step = Step::ScaleUp;
        }
        feed(&mut s, [SourceEvent::Action(ActionOutcome::WizardStepDone)]);
        assert!(s.restore.is_none());
    }
}

#[test]
fn the_restore_name_is_unique_per_wizard_and_its_job_name_a_valid_label() {
    let mut w = Wizard::new(facts(), Some(KEY.into()));
    w.name_suffix = "1123-100700".into();
    assert_eq!(w.restore_name(), "prod-cluster-restore-1123-100700");
    w.facts.cluster = format!("{}-x", "a".repeat(70));
    let job = crate::domain::restore_status::restore_job_name(&w.restore_name());
    assert!(job.len() <= 63, "{job}");
    assert!(job.ends_with("-restore-1123-100700"), "{job}");
}
