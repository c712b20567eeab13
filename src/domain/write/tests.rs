use super::guard::{self, recheck};
use super::patch::{ack_patch, revert_patch};
use super::*;
use crate::domain::restore::{Disposition, Request};
use crate::domain::{BlueGreenView, BreakGlassView, ClusterView};

fn cluster(active: bool, nonce: &str) -> ClusterView {
    ClusterView {
        resource_version: "7".into(),
        break_glass: Some(BreakGlassView {
            active,
            nonce: Some(nonce.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn ack(nonce: &str) -> ClusterWrite {
    ClusterWrite::Acknowledge {
        nonce: nonce.into(),
    }
}

#[test]
fn the_patch_carries_nonce_and_resource_version() {
    assert_eq!(
        ack_patch("abc", "42").to_string(),
        r#"{"metadata":{"resourceVersion":"42"},"spec":{"breakGlassAck":"abc"}}"#
    );
}

#[test]
fn a_built_patch_is_sent_as_the_exact_bytes_it_shows() {
    let c = cluster(true, "n1");
    let p = ClusterPatch::build(ack("n1"), "security", "prod", &c).unwrap();
    assert_eq!(
        p.body,
        r#"{"metadata":{"resourceVersion":"7"},"spec":{"breakGlassAck":"n1"}}"#
    );
    // What the client serializes from `json()` is the body, byte for byte.
    assert_eq!(p.json().unwrap().to_string(), p.body);
    assert_eq!(
        p.path(),
        "/apis/openbao.org/v1alpha1/namespaces/security/openbaoclusters/prod"
    );
    let pause = ClusterWrite::PauseRepair {
        step: PauseStep::ResumeAck,
        nonce: "n1".into(),
    };
    let p = ClusterPatch::build(pause, "security", "prod", &c).unwrap();
    assert_eq!(
        p.body,
        r#"{"metadata":{"resourceVersion":"7"},"spec":{"breakGlassAck":"n1","paused":false}}"#
    );
    assert_eq!(p.json().unwrap().to_string(), p.body);
}

#[test]
fn revert_goes_back_to_blue_and_is_refused_when_things_moved() {
    let mut c = cluster(false, "n1");
    c.spec_version = "2.4.4".into();
    c.current_version = Some("2.4.3".into());
    assert_eq!(
        revert_patch(&c).unwrap().to_string(),
        r#"{"metadata":{"resourceVersion":"7"},"spec":{"version":"2.4.3"}}"#
    );
    let revert = |from: &str| ClusterWrite::Revert {
        from_version: from.into(),
    };
    assert_eq!(recheck(&revert("2.4.4"), &c), Ok(()));
    assert_eq!(
        recheck(&revert("2.5.0"), &c),
        Err(Refusal::VersionChanged {
            from: "2.5.0".into(),
            to: "2.4.4".into()
        })
    );
    c.spec_image = Some("openbao:2.4.4".into());
    assert_eq!(
        recheck(&revert("2.4.4"), &c),
        Err(Refusal::BlueImageUnknown)
    );
    c.blue_green = Some(BlueGreenView {
        blue_image: Some("openbao:2.4.3".into()),
        ..Default::default()
    });
    assert_eq!(revert_patch(&c).unwrap()["spec"]["image"], "openbao:2.4.3");
    assert_eq!(
        recheck(&revert(""), &cluster(true, "n1")),
        Err(Refusal::BreakGlassActive {
            deletes_green: false
        })
    );
}

#[test]
fn pause_and_repair_patches_and_their_guards() {
    assert_eq!(
        PauseStep::Pause.patch("n1", "42").to_string(),
        r#"{"metadata":{"resourceVersion":"42"},"spec":{"paused":true}}"#
    );
    let step = |step| ClusterWrite::PauseRepair {
        step,
        nonce: "n1".into(),
    };
    let mut c = cluster(true, "n1");
    assert_eq!(recheck(&step(PauseStep::Pause), &c), Ok(()));
    assert_eq!(
        recheck(&step(PauseStep::ResumeAck), &c),
        Err(Refusal::NotPaused)
    );
    c.paused = true;
    assert_eq!(recheck(&step(PauseStep::ResumeAck), &c), Ok(()));
    assert_eq!(
        recheck(&step(PauseStep::Pause), &c),
        Err(Refusal::AlreadyPaused)
    );
    let other = cluster(true, "n2");
    assert!(matches!(
        recheck(&step(PauseStep::Pause), &other),
        Err(Refusal::NonceChanged { .. })
    ));
}

#[test]
fn a_stale_nonce_or_inactive_break_glass_is_refused() {
    assert_eq!(recheck(&ack("n1"), &cluster(true, "n1")), Ok(()));
    assert_eq!(
        recheck(&ack("n1"), &cluster(true, "n2")),
        Err(Refusal::NonceChanged {
            confirmed: "n1".into(),
            current: "n2".into()
        })
    );
    assert_eq!(
        recheck(&ack("n1"), &cluster(false, "n1")),
        Err(Refusal::BreakGlassInactive)
    );
    let text = Refusal::NonceChanged {
        confirmed: "n1".into(),
        current: "n2".into(),
    }
    .to_string();
    assert!(text.contains("nonce changed (n1 → n2)"), "{text}");
}

#[test]
fn a_confirmation_on_a_changed_object_is_refused_as_changed() {
    let c = cluster(true, "n1");
    let seen = Seen {
        namespace: "ns",
        name: "c",
        cluster: Some(&c),
        missing: false,
        stale: Vec::new(),
        unparseable: false,
        in_flight: false,
        line: crate::domain::generation::Line::V01,
        restore_running: None,
    };
    let now = guard::acknowledge(&seen).unwrap();
    assert_eq!(guard::confirmed(&ack("n1"), Some("7"), &now), Ok(()));
    assert_eq!(guard::confirmed(&ack("n1"), None, &now), Ok(()));
    assert_eq!(
        guard::confirmed(&ack("n1"), Some("6"), &now),
        Err(Refusal::Changed {
            from: "6".into(),
            to: "7".into()
        })
    );
    // A new nonce is said as such, before the resourceVersion.
    assert!(matches!(
        guard::confirmed(&ack("n0"), Some("6"), &now),
        Err(Refusal::NonceChanged { .. })
    ));
    let stale = Seen {
        stale: vec![("cluster", Some(40))],
        ..seen.clone()
    };
    assert_eq!(
        guard::acknowledge(&stale).unwrap_err().to_string(),
        "cluster data is stale (40 s old)"
    );
    let read_only = Session {
        write: false,
        write_key: 'X',
        who: "alice",
        denied: &[],
    };
    let refused = guard::retry(&seen, &read_only);
    assert_eq!(refused, Err(Refusal::ReadOnly { key: 'X' }));
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .starts_with("read-only mode: press X in the Decision pane")
    );
}

#[test]
fn a_forbidden_refusal_names_who_verb_and_resource() {
    let r = Refusal::forbidden("viewer", "patch openbaoclusters.openbao.org in security");
    assert_eq!(
        r,
        Refusal::Forbidden {
            who: "viewer".into(),
            verb: "patch".into(),
            resource: "openbaoclusters.openbao.org in security".into()
        }
    );
    assert!(r.is_forbidden());
    assert_eq!(
        r.to_string(),
        "forbidden: viewer may not patch openbaoclusters.openbao.org in security"
    );
}

#[test]
fn every_restore_request_previews_the_body_it_sends() {
    let scale = Request::Scale {
        namespace: "openbao-operator-system".into(),
        name: "openbao-operator-controller".into(),
        replicas: 0,
    };
    assert_eq!(
        scale.preview(),
        r#"PATCH /apis/apps/v1/namespaces/openbao-operator-system/deployments/openbao-operator-controller/scale {"spec":{"replicas":0}}"#
    );
    let pvc = Request::DeletePvc {
        namespace: "security".into(),
        name: "data-prod-0".into(),
    };
    assert_eq!(pvc.body(), None);
    assert_eq!(
        pvc.preview(),
        "DELETE /api/v1/namespaces/security/persistentvolumeclaims/data-prod-0"
    );
    let ack = Request::AcknowledgeRestore {
        namespace: "security".into(),
        name: "r1".into(),
        uid: "u-1".into(),
        disposition: Disposition::Abandon,
        resource_version: "77".into(),
    };
    assert_eq!(
        ack.body().unwrap().to_string(),
        r#"{"metadata":{"annotations":{"openbao.org/restore-acknowledge":"u-1/Abandon"},"resourceVersion":"77"}}"#
    );
    assert!(ack.preview().ends_with(&ack.body().unwrap().to_string()));
}
