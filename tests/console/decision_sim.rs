//! The decision path against the simulator: a read-only console session sends zero mutating
//! requests (the server's request log), the dry run precedes the real patch, a 409 and a 403
//! are reported as such, `breakglass ack` exit codes with the real binary, and the report of
//! the journal a demo incident leaves behind.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use breakglass::app::{Dialog, Effect, Focus, Msg, Options, State, update};
use breakglass::sim::run::{SimHandle, start};
use breakglass::sources::connect::{Connection, Target, connect};
use breakglass::sources::{ActionOutcome, SourceEvent, actions, rbac, snapshot, watch};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::Timestamp;
use tokio::sync::mpsc;

const SPEED: f64 = 4.0;

async fn sim(dir: &Path, scenario: &str) -> SimHandle {
    start(scenario, SPEED, &dir.join("kubeconfig"))
        .await
        .unwrap()
}

async fn conn(sim: &SimHandle, context: Option<&str>) -> Connection {
    connect(&Target {
        kubeconfig: Some(sim.kubeconfig.clone()),
        context: context.map(str::to_string),
        ..Default::default()
    })
    .await
    .unwrap()
}

fn mutating(sim: &SimHandle) -> Vec<String> {
    sim.controls().mutations()
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_console_session_sends_zero_mutating_requests() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim(dir.path(), "transient").await;
    let c = conn(&sim, None).await;
    let (tx, mut rx) = mpsc::channel(256);
    let handles = watch::spawn_all(&c.client, &c.namespace, &sim.cluster, tx.clone());
    let denied = rbac::preflight(&c.client, &c.namespace).await.unwrap();
    assert!(denied.is_empty(), "admin may do everything: {denied:?}");
    let mut state = State::new(Options {
        namespace: c.namespace.clone(),
        cluster: sim.cluster.clone(),
        context_label: c.context.clone(),
        color: false,
        now: Timestamp::now(),
        write: breakglass::app::write_mode::WriteStart::new(false),
        os_user: "tester".into(),
        k8s_user: c.user.clone(),
        journal_dir: None,
    });
    state.focus = Focus::Decision;
    let mut effects = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(4);
    while let Ok(Some(ev)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        effects.extend(update(&mut state, Msg::Source(ev)));
        // Every key a user might try while read-only: Enter on each path, confirm keys.
        for k in [
            key(KeyCode::Enter),
            key(KeyCode::Right),
            key(KeyCode::Enter),
            key(KeyCode::Char('j')),
        ] {
            effects.extend(update(&mut state, k));
        }
    }
    for h in handles {
        h.abort();
    }
    assert!(
        state.incident.cluster.is_some(),
        "the session saw the cluster"
    );
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, breakglass::app::Effect::Patch(_))),
        "read-only produced a mutation: {effects:?}"
    );
    assert_eq!(mutating(&sim), Vec::<String>::new());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dry_run_precedes_the_patch_and_403_409_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim(dir.path(), "transient").await;
    let nonce = sim.seeded.nonce.clone();
    // 403: the viewer context; nothing reaches the store.
    let viewer = conn(&sim, Some("sim-viewer")).await;
    let denied = rbac::preflight(&viewer.client, &viewer.namespace)
        .await
        .unwrap();
    assert!(
        denied
            .iter()
            .any(|d| d.permission == "patch openbaoclusters.openbao.org in security"),
        "{denied:?}"
    );
    match actions::acknowledge(&viewer.client, &viewer.namespace, &sim.cluster, &nonce).await {
        ActionOutcome::Failed {
            status: Some(403),
            message,
        } => assert!(
            message.contains("User \"viewer\" cannot patch"),
            "{message}"
        ),
        other => panic!("expected 403, got {other:?}"),
    }
    // 409: the cluster changed between re-read and send.
    let admin = conn(&sim, None).await;
    sim.controls()
        .inject_error("PATCH", "/apis/openbao.org", 409, 1);
    match actions::acknowledge(&admin.client, &admin.namespace, &sim.cluster, &nonce).await {
        ActionOutcome::Failed {
            status: Some(409),
            message,
        } => assert!(message.contains("nothing was applied"), "{message}"),
        other => panic!("expected 409, got {other:?}"),
    }
    sim.controls().clear_requests();
    let outcome = actions::acknowledge(&admin.client, &admin.namespace, &sim.cluster, &nonce).await;
    assert!(
        matches!(outcome, ActionOutcome::Acknowledged { .. }),
        "{outcome:?}"
    );
    let patches: Vec<_> = sim
        .controls()
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    assert_eq!(patches.len(), 2, "{patches:?}");
    assert!(patches[0].query.contains("dryRun=All"), "{patches:?}");
    assert!(!patches[1].query.contains("dryRun"), "{patches:?}");
    sim.shutdown().await;
}

fn ack(kubeconfig: &Path, state: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_breakglass"))
        .arg("ack")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .env("XDG_STATE_HOME", state)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_exit_codes_guards_and_the_report_of_its_journal() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let sim = sim(dir.path(), "transient").await;
    let kc = sim.kubeconfig.clone();
    let cluster = sim.cluster.clone();
    let nonce = sim.seeded.nonce.clone();
    let kc2 = kc.clone();
    let state2 = state.clone();
    let run = move |args: Vec<String>| {
        let (kc, state) = (kc2.clone(), state2.clone());
        tokio::task::spawn_blocking(move || {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            ack(&kc, &state, &a)
        })
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();

    // A stale nonce is refused without writing anything.
    let o = run(s(&[&cluster, "--nonce", "0000", "--yes"]))
        .await
        .unwrap();
    assert_eq!(code(&o), 4, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("stale"));
    // The viewer may not patch: 5, who and what is missing.
    let o = run(s(&[
        "--context",
        "sim-viewer",
        &cluster,
        "--nonce",
        &nonce,
        "--yes",
    ]))
    .await
    .unwrap();
    assert_eq!(code(&o), 5, "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("viewer") && err.contains("patch openbaoclusters"),
        "{err}"
    );
    // No --yes and no terminal: not confirmed, nothing sent.
    let o = run(s(&[&cluster, "--nonce", &nonce])).await.unwrap();
    assert_eq!(code(&o), 4, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(mutating(&sim), Vec::<String>::new());
    // The real thing.
    sim.controls().clear_requests();
    let o = run(s(&[&cluster, "--nonce", &nonce, "--yes"]))
        .await
        .unwrap();
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    // The body shown is the body sent (the simulator's request log), dry run and patch.
    let shown = out
        .lines()
        .skip_while(|l| !l.contains("sent exactly:"))
        .nth(1)
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    assert!(
        shown.contains("\"breakGlassAck\""),
        "the exact body is shown: {out}"
    );
    let sent: Vec<String> = sim
        .controls()
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.body.unwrap_or_default())
        .collect();
    assert_eq!(sent, [shown.clone(), shown.clone()]);
    // What the ack reruns, per reason: the repair, with the next Job's run ID.
    assert!(
        out.lines().any(|l| l.starts_with("operator"))
            && out.contains("reruns the consensus repair")
            && out.contains("run ID rollback-retry-1"),
        "{out}"
    );
    // Once the operator has taken it: the same nonce again is refused, nothing sent.
    let admin = conn(&sim, None).await;
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let i = snapshot::read(&admin.client, &admin.namespace, &cluster)
                .await
                .unwrap();
            if i.cluster.unwrap().active_nonce() != Some(nonce.as_str()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the twin never took the acknowledgement");
    let o = run(s(&[&cluster, "--nonce", &nonce, "--yes"]))
        .await
        .unwrap();
    assert_eq!(code(&o), 4, "{}", String::from_utf8_lossy(&o.stderr));

    // The journal of this incident, as a postmortem.
    let journals: Vec<_> = std::fs::read_dir(state.join("breakglass"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(journals.len(), 1, "one incident, one journal: {journals:?}");
    let text = std::fs::read_to_string(&journals[0]).unwrap();
    assert!(!text.contains("token"), "no secrets in the journal");
    // The journal's request entries record the bytes sent.
    let journaled: Vec<String> = breakglass::journal::read(&journals[0])
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.event {
            breakglass::journal::Event::Request {
                method,
                body: Some(b),
                ..
            } if method == "PATCH" => Some(b.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(journaled, [shown.clone(), shown]);
    let report = Command::new(env!("CARGO_BIN_EXE_breakglass"))
        .arg("report")
        .arg(&journals[0])
        .output()
        .unwrap();
    assert!(report.status.success());
    let md = String::from_utf8_lossy(&report.stdout);
    assert!(
        md.starts_with(&format!("# Incident timeline: security/{cluster}")),
        "{md}"
    );
    assert!(md.contains("People: "), "{md}");
    assert!(md.contains("viewer"), "{md}");
    assert!(md.contains("(dry run)"), "{md}");
    assert!(md.contains(&format!("acknowledged nonce {nonce}")), "{md}");
    assert!(md.contains("refused: the nonce changed"), "{md}");
    let json = Command::new(env!("CARGO_BIN_EXE_breakglass"))
        .args(["report", "--format", "json"])
        .arg(&journals[0])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(v["timeline"].as_array().unwrap().len() > 5, "{v}");
    sim.shutdown().await;
}

/// The console's path from a dialog to the request, on the cluster as read now: `open`
/// opens the dialog (None: not offered now), Tab + Enter confirm it, and the effect is sent
/// as the runtime sends it. The body the dialog shows, the effect's, the journal's and the
/// simulator's request log (dry run, then the patch) are the same bytes.
async fn console_confirms(
    sim: &SimHandle,
    admin: &Connection,
    open: KeyCode,
) -> Option<ActionOutcome> {
    let incident = snapshot::read(&admin.client, &admin.namespace, &sim.cluster)
        .await
        .unwrap();
    let mut state = State::new(Options {
        namespace: admin.namespace.clone(),
        cluster: sim.cluster.clone(),
        context_label: admin.context.clone(),
        color: false,
        now: Timestamp::now(),
        write: breakglass::app::write_mode::WriteStart::new(true),
        os_user: "tester".into(),
        k8s_user: admin.user.clone(),
        journal_dir: None,
    });
    update(
        &mut state,
        Msg::Source(SourceEvent::Cluster(incident.cluster)),
    );
    update(&mut state, Msg::Source(SourceEvent::Pods(incident.pods)));
    state.focus = Focus::Decision;
    update(&mut state, key(open));
    let shown = match state.dialog.as_ref()? {
        Dialog::ConfirmRetry { target, .. } => target.patch_body(),
        Dialog::ConfirmRevert { target, .. } => target.patch.body.clone(),
        other => panic!("unexpected dialog {other:?}"),
    };
    let mut effects = update(&mut state, key(KeyCode::Tab));
    effects.extend(update(&mut state, key(KeyCode::Enter)));
    let [Effect::Patch(patch)] = &effects[..] else {
        panic!("one patch effect expected: {effects:?}");
    };
    assert_eq!(patch.body, shown, "the effect carries the body shown");
    sim.controls().clear_requests();
    let mut rec = breakglass::journal::Recorder::default();
    let outcome = actions::send(&admin.client, patch, &mut rec).await;
    let journaled: Vec<(bool, String)> = rec
        .entries
        .iter()
        .filter_map(|e| match &e.event {
            breakglass::journal::Event::Request {
                method,
                dry_run,
                body: Some(b),
                ..
            } if method == "PATCH" => Some((*dry_run, b.to_string())),
            _ => None,
        })
        .collect();
    let sent: Vec<(bool, String)> = sim
        .controls()
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| (r.query.contains("dryRun=All"), r.body.unwrap_or_default()))
        .collect();
    let both = vec![(true, shown.clone()), (false, shown)];
    assert_eq!(journaled, both, "journal");
    assert_eq!(sent, both, "request log");
    Some(outcome)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_retry_the_revert_follow_up_goes_back_to_blue_with_a_dry_run_first() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim(dir.path(), "transient").await;
    let admin = conn(&sim, None).await;
    let mut rec = breakglass::journal::Recorder::default();
    // Refused while break glass is active: nothing sent.
    let refused = actions::revert_recorded(
        &admin.client,
        &admin.namespace,
        &sim.cluster,
        "2.4.4",
        &mut rec,
    )
    .await;
    assert!(
        matches!(refused, ActionOutcome::Refused { .. }),
        "{refused:?}"
    );
    assert_eq!(mutating(&sim), Vec::<String>::new());
    // Retry through the console: shown, carried, journaled and sent as the same bytes.
    let acked = console_confirms(&sim, &admin, KeyCode::Enter).await;
    assert!(
        matches!(acked, Some(ActionOutcome::Acknowledged { .. })),
        "{acked:?}"
    );
    // The revert through the console, once the operator has taken the acknowledgement.
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match console_confirms(&sim, &admin, KeyCode::Char('v')).await {
                Some(ActionOutcome::Reverted { .. }) => return,
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    })
    .await
    .expect("the revert was never accepted");
    let i = snapshot::read(&admin.client, &admin.namespace, &sim.cluster)
        .await
        .unwrap();
    assert_eq!(i.cluster.unwrap().spec_version, "2.4.3");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wizards_openbaorestore_passes_the_crd_schema_in_a_dry_run() {
    use breakglass::app::wizard::{Facts, restore_body};
    use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams};
    let dir = tempfile::tempdir().unwrap();
    let sim = sim(dir.path(), "transient").await;
    let admin = conn(&sim, None).await;
    let facts = Facts {
        namespace: sim.namespace.clone(),
        cluster: sim.cluster.clone(),
        backup: Some(serde_json::json!({
            "schedule": "0 * * * *",
            "target": {"provider": "s3", "endpoint": "https://s3.example", "bucket": "openbao-backups",
                       "credentialsSecretRef": {"name": "s3-creds"}},
            "jwtAuthRole": "backup",
        })),
        operator: None,
        pvcs: vec![],
        line: breakglass::domain::generation::Line::V01,
        restore_role: None,
        blue_revision: None,
    };
    let body = restore_body(&facts, &sim.seeded.snapshot_key, "r1").unwrap();
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("openbao.org", "v1alpha1", "OpenBaoRestore"),
        "openbaorestores",
    );
    let api: Api<DynamicObject> = Api::namespaced_with(admin.client.clone(), &sim.namespace, &ar);
    let obj: DynamicObject = serde_json::from_value(body).unwrap();
    let pp = PostParams {
        dry_run: true,
        ..Default::default()
    };
    let created = api.create(&pp, &obj).await.unwrap();
    assert_eq!(created.data["spec"]["overrideOperationLock"], true);
    // A dry run stores nothing.
    assert!(api.get_opt("r1").await.unwrap().is_none());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_restore_wizard_finds_its_facts_and_sends_each_step_after_a_dry_run() {
    use breakglass::app::wizard::{Input, Output, Step, Wizard};
    use breakglass::journal::Recorder;
    use breakglass::sources::restore;
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::PersistentVolumeClaim;
    use kube::api::Api;
    let dir = tempfile::tempdir().unwrap();
    let sim = sim(dir.path(), "transient").await;
    let admin = conn(&sim, None).await;
    let (mut facts, key) = restore::facts(&admin.client, &admin.namespace, &sim.cluster)
        .await
        .unwrap();
    let op = facts
        .operator
        .clone()
        .expect("operator found by its labels");
    assert_eq!(op.name, "openbao-operator-controller");
    assert!(!facts.pvcs.is_empty(), "the cluster's PVCs are listed");
    let (key, source) = key.expect("a snapshot key");
    assert_eq!(key, sim.seeded.snapshot_key, "from {source}");
    assert_eq!(source, "pre-upgrade snapshot Job log");
    // The seeded cluster may have no backup target: give one so the restore can be built.
    facts.backup.get_or_insert_with(|| {
        serde_json::json!({"schedule": "0 * * * *",
            "target": {"endpoint": "https://s3.example", "bucket": "b"}, "jwtAuthRole": "backup"})
    });
    let pvcs = facts.pvcs.clone();
    let mut w = Wizard::new(facts, Some(key));
    sim.controls().clear_requests();
    let mut sent = 0;
    while w.step != Step::Follow {
        if w.step.irreversible() {
            for c in sim.cluster.chars() {
                w.on(Input::Type(c));
            }
        }
        match w.on(Input::Confirm) {
            Output::Send(req) => {
                let mut rec = Recorder::default();
                let outcome = restore::send(&admin.client, &req, &mut rec).await;
                assert_eq!(outcome, ActionOutcome::WizardStepDone, "{req:?}");
                let dry: Vec<bool> = rec
                    .entries
                    .iter()
                    .filter_map(|e| match &e.event {
                        breakglass::journal::Event::Request { dry_run, .. } => Some(*dry_run),
                        _ => None,
                    })
                    .collect();
                assert_eq!(dry, [true, false], "dry run first: {req:?}");
                sent += 1;
                w.on(Input::Done);
            }
            Output::Nothing => {}
            other => panic!("{other:?} at {:?}", w.step),
        }
    }
    assert_eq!(
        sent,
        3 + pvcs.len(),
        "scale down, each PVC, scale up, restore"
    );
    // Every write went twice, the dry run first.
    let writes: Vec<_> = mutating(&sim);
    assert_eq!(writes.len(), 2 * sent, "{writes:#?}");
    for pair in writes.chunks(2) {
        // DeleteOptions carry dryRun in the body (checked in the journal above).
        if !pair[0].starts_with("DELETE") {
            assert!(
                pair[0].contains("dryRun=All") && !pair[1].contains("dryRun"),
                "{pair:?}"
            );
        }
    }
    let deployments: Api<Deployment> = Api::namespaced(admin.client.clone(), &op.namespace);
    let d = deployments.get(&op.name).await.unwrap();
    assert_eq!(d.spec.unwrap().replicas, Some(1), "scaled back up");
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(admin.client.clone(), &sim.namespace);
    for p in &pvcs {
        let gone = claims.get_opt(p).await.unwrap();
        assert!(
            gone.is_none_or(|c| c.metadata.deletion_timestamp.is_some()),
            "{p}"
        );
    }
    sim.shutdown().await;
}
