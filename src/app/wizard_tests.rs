//! The Restore wizard's transition table, typed confirmation, and "cancel sends nothing".

use serde_json::json;

use super::*;

fn facts() -> Facts {
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
    }
}

const KEY: &str = "security/prod-cluster/pre-upgrade-2026-11-23T09-41-07Z-1a2b3c4d.snap";

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
    assert_eq!(body["spec"]["jwtAuthRole"], "backup");
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
    let mut f = facts();
    f.backup = Some(json!({"target": {"bucket": "b"}}));
    assert!(
        restore_body(&f, KEY, "r")
            .unwrap_err()
            .contains("jwtAuthRole")
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
