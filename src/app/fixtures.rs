//! Test fixtures: the break-glass incident of the runbook, with the operator's real strings
//! (dc-tec/openbao-operator@002fbdd `internal/upgrade/bluegreen/break_glass.go`, `internal/upgrade/job.go` `upgradeExecutorJobName`, `cmd/bao-upgrade/main.go` and the executor in `internal/upgrade`), fed through `update` like the runtime would.

use jiff::Timestamp;

use super::{Msg, Options, State, update};
use crate::app::msg::SourceEvent;
use crate::domain::incident::ACTION_REPAIR_CONSENSUS;
use crate::domain::{
    BlueGreenView, BreakGlassView, ClusterView, ConditionView, JobState, JobView, PodView,
    RaftReading, Side,
};

pub(crate) const NONCE: &str = "9f2c4e1a7b3d5f60812a4c6e8b0d2f47";
pub(crate) const RV: &str = "184467";
pub const JOB: &str = "upgrade-prod-cluster-bluegreen-repair-consensus-5054f3dfa7";
pub const BLUE: &str = "e8983038c519c718";
pub const GREEN: &str = "269c4f7ba494030d";

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap_or(Timestamp::UNIX_EPOCH)
}

pub fn now() -> Timestamp {
    ts("2026-11-23T10:07:00Z")
}

pub fn opts(color: bool) -> Options {
    Options {
        namespace: "security".into(),
        cluster: "prod-cluster".into(),
        context_label: "demo:transient".into(),
        color,
        now: now(),
        write: super::write_mode::WriteStart::new(true),
        os_user: "alice".into(),
        k8s_user: "admin".into(),
        journal_dir: None,
    }
}

pub fn cluster() -> ClusterView {
    let ns = "security";
    let c = "prod-cluster";
    ClusterView {
        name: c.into(),
        namespace: ns.into(),
        resource_version: RV.into(),
        generation: 7,
        spec_version: "2.4.4".into(),
        replicas: 3,
        phase: Some("Upgrading".into()),
        current_version: Some("2.4.3".into()),
        active_leader: Some(format!("{c}-{BLUE}-0")),
        ready_replicas: Some(3),
        conditions: vec![
            ConditionView {
                type_: "Degraded".into(),
                status: "True".into(),
                reason: Some("BreakGlassRequired".into()),
                message: Some("Break glass required: RollbackConsensusRepairFailed".into()),
            },
            ConditionView {
                type_: "Upgrading".into(),
                status: "True".into(),
                reason: Some("RollingBack".into()),
                message: None,
            },
        ],
        break_glass: Some(BreakGlassView {
            active: true,
            reason: Some("RollbackConsensusRepairFailed".into()),
            message: Some(format!(
                "Rollback consensus repair Job {JOB} failed; manual intervention required"
            )),
            nonce: Some(NONCE.into()),
            entered_at: Some(ts("2026-11-23T10:02:30Z")),
            steps: vec![
                format!("Inspect rollback Job logs: kubectl -n {ns} logs job/{JOB}"),
                format!("Inspect pod status: kubectl -n {ns} get pods -l openbao.org/cluster={c} -o wide"),
                format!("Attempt to identify Raft leader: kubectl -n {ns} exec -it {c}-0 -- bao operator raft list-peers"),
                "Perform any required Raft recovery steps (peer removal, snapshot restore) per the user-guide runbook.".into(),
                format!("Acknowledge break glass to retry rollback automation: kubectl -n {ns} patch openbaocluster {c} --type merge -p '{{\"spec\":{{\"breakGlassAck\":\"{NONCE}\"}}}}'"),
            ],
            acknowledged_at: None,
        }),
        blue_green: Some(BlueGreenView {
            phase: Some("RollingBack".into()),
            blue_revision: Some(BLUE.into()),
            green_revision: Some(GREEN.into()),
            job_failure_count: 1,
            last_job_failure: Some(JOB.into()),
            rollback_reason: Some("job failure in phase TransferringLeadership".into()),
            rollback_attempt: 0,
            ..BlueGreenView::default()
        }),
        ..ClusterView::default()
    }
}

pub fn pod(rev: &str, n: u8, active: bool) -> PodView {
    PodView {
        name: format!("prod-cluster-{rev}-{n}"),
        revision: Some(rev.into()),
        phase: "Running".into(),
        ready: true,
        sealed: Some(false),
        active: Some(active),
        restarts: 0,
        waiting_reason: None,
        deleting: false,
        version: Some(if rev == GREEN { "2.4.4" } else { "2.4.3" }.into()),
    }
}

pub fn pods() -> Vec<PodView> {
    let mut v: Vec<_> = (0..3).map(|n| pod(BLUE, n, n == 0)).collect();
    v.extend((0..3).map(|n| pod(GREEN, n, false)));
    v
}

pub(crate) fn crashlooping_green() -> Vec<PodView> {
    let mut v = pods();
    if let Some(p) = v
        .iter_mut()
        .find(|p| p.name.ends_with(&format!("{GREEN}-1")))
    {
        p.ready = false;
        p.phase = "Running".into();
        p.restarts = 7;
        p.waiting_reason = Some("CrashLoopBackOff".into());
    }
    v
}

pub fn jobs() -> Vec<JobView> {
    vec![JobView {
        name: JOB.into(),
        action: Some(ACTION_REPAIR_CONSENSUS.into()),
        run_id: Some("rollback".into()),
        state: JobState::Failed,
        created: Some(ts("2026-11-23T09:59:58Z")),
    }]
}

pub fn raft() -> Vec<RaftReading> {
    let r = |rev: &str, n: u8, side, committed: Option<u64>, leader| RaftReading {
        pod: format!("prod-cluster-{rev}-{n}"),
        side,
        committed,
        applied: committed.map(|c| c.saturating_sub(2)),
        is_leader: leader,
        leader_address: None,
        reachable: committed.is_some(),
        sealed: committed.is_none(),
        endpoints: None,
        error: committed
            .is_none()
            .then(|| "503 Vault is sealed".to_string()),
        at: ts("2026-11-23T10:06:58Z"),
    };
    vec![
        r(BLUE, 0, Side::Blue, Some(2066), true),
        r(BLUE, 1, Side::Blue, Some(2066), false),
        r(BLUE, 2, Side::Blue, None, false),
        r(GREEN, 0, Side::Green, Some(5066), false),
        r(GREEN, 1, Side::Green, Some(5060), false),
        r(GREEN, 2, Side::Green, Some(5066), false),
    ]
}

pub(crate) fn log_lines() -> Vec<String> {
    [
        "2026-11-23T10:00:00.512Z\tINFO\tUpgrade executor starting\t{\"action\": \"bluegreen-repair-consensus\", \"cluster_namespace\": \"security\", \"cluster_name\": \"prod-cluster\"}",
        "2026-11-23T10:00:00.890Z\tINFO\tLeader found for consensus repair\t{\"leader_url\": \"https://prod-cluster-e8983038c519c718-0.prod-cluster.security.svc:8200\"}",
        "2026-11-23T10:00:01.000Z\tERROR\tupgrade-executor error: raft configuration request failed with status 403: permission denied",
        "\tgithub.com/dc-tec/openbao-operator/internal/upgrade/executor.Run",
        "upgrade-executor error: failed to read Raft configuration for consensus repair: raft configuration request failed with status 403: permission denied",
    ]
    .map(String::from)
    .to_vec()
}

/// Feed a state like the runtime would.
pub fn feed(state: &mut State, events: impl IntoIterator<Item = SourceEvent>) {
    for ev in events {
        update(state, Msg::Source(ev));
    }
}

/// The break-glass incident with every source fresh.
pub(crate) fn incident_state(color: bool) -> State {
    let mut s = State::new(opts(color));
    update(&mut s, Msg::Tick(ts("2026-11-23T10:06:57Z")));
    feed(
        &mut s,
        [
            SourceEvent::Cluster(Some(cluster())),
            SourceEvent::Pods(pods()),
            SourceEvent::Jobs(jobs()),
            SourceEvent::Raft(raft().into()),
            SourceEvent::LogAttempt {
                job: JOB.into(),
                run_id: Some("rollback".into()),
            },
            SourceEvent::LogLines {
                job: JOB.into(),
                lines: log_lines(),
            },
            SourceEvent::LogEnded { job: JOB.into() },
        ],
    );
    update(&mut s, Msg::Tick(now()));
    s
}

/// One of OpenBao 2.7's recorded answers, vendored into
/// `tests/fixtures/openbao/` so a clean clone tests without the shared directory.
pub(crate) fn openbao_sample(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/openbao/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
