//! Log lines of the operator's upgrade executor (`cmd/bao-upgrade`), in its real format
//! (dc-tec/openbao-operator@002fbdd `cmd/bao-upgrade/main.go` and the executor in `internal/upgrade`), for the simulated Job pods' `upgrade-executor` container.
//!
//! controller-runtime's zap in development mode writes
//! `<ISO8601 ms>\t<LEVEL>\t<message>\t{"key": "value", ...}` with the executor's common fields
//! first; WARN and ERROR entries are followed by indented goroutine frames; a fatal error ends
//! the log as a plain `upgrade-executor error: <err>` with no fields. The twin appends these
//! to the store (`Store::append_log`), the API server serves them, the console highlights them.

use jiff::{Timestamp, ToSpan};
use serde_json::Value;

use super::operator_line::OperatorLine;
use super::scenario::{LogStep, Topology};

/// The fields every executor log entry carries (RunExecutor's `logger.WithValues`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutorFields {
    pub action: String,
    pub namespace: String,
    pub cluster: String,
    pub replicas: i32,
    pub blue: String,
    pub green: String,
    /// Whose executor prints (module paths of stack frames).
    pub line: OperatorLine,
}

impl ExecutorFields {
    pub fn new(topo: &Topology, action: &str) -> ExecutorFields {
        ExecutorFields {
            action: action.to_string(),
            namespace: topo.namespace.clone(),
            cluster: topo.cluster.clone(),
            replicas: topo.replicas,
            blue: topo.blue_rev.clone(),
            green: topo.green_rev.clone(),
            line: topo.operator,
        }
    }
}

/// zap's ISO8601 time encoder in UTC: `2026-11-23T19:30:01.123Z`.
pub(crate) fn zap_time(ts: Timestamp) -> String {
    format!("{:.3}", ts).replace("+00:00", "Z")
}

fn quote(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// zap's console encoder writes the context as JSON with a space after `:` and `,`.
fn fields_json(common: &ExecutorFields, extra: &[(String, String)]) -> String {
    let mut parts = vec![
        format!("\"action\": {}", quote(&common.action)),
        format!("\"cluster_namespace\": {}", quote(&common.namespace)),
        format!("\"cluster_name\": {}", quote(&common.cluster)),
        format!("\"replicas\": {}", common.replicas),
        format!("\"blue_revision\": {}", quote(&common.blue)),
        format!("\"green_revision\": {}", quote(&common.green)),
    ];
    for (k, v) in extra {
        // Numbers stay numbers, as zap would encode ints.
        let value = if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
            v.clone()
        } else {
            quote(v)
        };
        parts.push(format!("{}: {value}", quote(k)));
    }
    format!("{{{}}}", parts.join(", "))
}

/// The Go function an action runs in (`internal/upgrade/executor.go`), for stack frames.
fn action_function(action: &str) -> &'static str {
    match action {
        "bluegreen-join-green-nonvoters" => "runBlueGreenJoinGreenNonVoters",
        "bluegreen-wait-green-synced" => "runBlueGreenWaitGreenSynced",
        "bluegreen-promote-green-voters" => "runBlueGreenPromoteGreenVoters",
        "bluegreen-demote-blue-nonvoters-stepdown" => "runBlueGreenDemoteBlueNonVotersStepDown",
        "bluegreen-remove-blue-peers" => "runBlueGreenRemoveBluePeers",
        "bluegreen-repair-consensus" => "runBlueGreenRepairConsensus",
        _ => "runRollingStepDownLeader",
    }
}

/// Goroutine frames zap attaches to WARN/ERROR entries in development mode: a function
/// line, then a tab-indented `file:line` line, repeated (0.1's executor; for fixtures).
#[cfg(test)]
pub(crate) fn stack_frames(action: &str) -> Vec<String> {
    stack_frames_for(OperatorLine::V01, action)
}

/// [`stack_frames`] of `line`'s executor.
pub(crate) fn stack_frames_for(line: OperatorLine, action: &str) -> Vec<String> {
    let module = line.module();
    // 0.6 moved the executor under internal/service/upgrade.
    let pkg = if line.is_06() {
        "internal/service/upgrade"
    } else {
        "internal/upgrade"
    };
    vec![
        format!("{module}/{pkg}.{}", action_function(action)),
        format!("\t{module}/{pkg}/executor.go:476"),
        format!("{module}/{pkg}.RunExecutor"),
        format!("\t{module}/{pkg}/executor.go:43"),
        "main.run".to_string(),
        format!("\t{module}/cmd/bao-upgrade/main.go:33"),
        "main.main".to_string(),
        format!("\t{module}/cmd/bao-upgrade/main.go:43"),
        "runtime.main".to_string(),
        "\truntime/proc.go:283".to_string(),
    ]
}

/// One entry: its line, plus stack frames for WARN and ERROR.
pub fn entry(
    ts: Timestamp,
    common: &ExecutorFields,
    level: &str,
    msg: &str,
    extra: &[(String, String)],
) -> Vec<String> {
    let mut lines = vec![format!(
        "{}\t{level}\t{msg}\t{}",
        zap_time(ts),
        fields_json(common, extra)
    )];
    if matches!(level, "WARN" | "ERROR") {
        lines.extend(stack_frames_for(common.line, &common.action));
    }
    lines
}

/// A scenario step rendered at time `ts`, placeholders filled.
pub(crate) fn step_lines(
    ts: Timestamp,
    topo: &Topology,
    common: &ExecutorFields,
    step: &LogStep,
) -> Vec<String> {
    let extra: Vec<(String, String)> = step
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), topo.fill(v)))
        .collect();
    entry(ts, common, &step.level, &topo.fill(&step.msg), &extra)
}

/// The executor's last words on failure (stderr, no timestamp, no fields).
pub fn error_line(err: &str) -> String {
    format!("upgrade-executor error: {err}")
}

/// A whole log as a finished executor would have left it, for seeded Jobs: each step at
/// `start + after_s`, then the fatal error if any.
pub(crate) fn finished_log(
    start: Timestamp,
    topo: &Topology,
    action: &str,
    steps: &[LogStep],
    error: Option<&str>,
) -> Vec<String> {
    let common = ExecutorFields::new(topo, action);
    let mut lines = Vec::new();
    for step in steps {
        let ms = (step.after_s * 1000.0).round() as i64;
        let ts = start.checked_add(ms.milliseconds()).unwrap_or(start);
        lines.extend(step_lines(ts, topo, &common, step));
    }
    if let Some(err) = error {
        lines.push(error_line(&topo.fill(err)));
    }
    lines
}

/// The backup executor's success line for the pre-upgrade snapshot (dc-tec/openbao-operator@002fbdd `internal/backup/naming.go`).
pub(crate) fn snapshot_completed_line(key: &str, size: u64) -> String {
    format!("Backup completed successfully: {key} (size: {size} bytes)")
}

/// Object key of a pre-upgrade snapshot: `<ns>/<cluster>/pre-upgrade-<YYYY-MM-DDTHH-MM-SSZ>-<8hex>.snap`.
pub fn snapshot_key(topo: &Topology, at: Timestamp, hex8: &str) -> String {
    let stamp = at.strftime("%Y-%m-%dT%H-%M-%SZ").to_string();
    format!(
        "{}/{}/pre-upgrade-{stamp}-{hex8}.snap",
        topo.namespace, topo.cluster
    )
}

/// What `runBlueGreenRemoveBluePeers` logs on 0.1, read literally (it removes the Blue
/// peers, the twin's Raft model with it).
pub(crate) fn remove_blue_peers_steps(topo: &Topology, leader: Option<String>) -> Vec<LogStep> {
    let step = |msg: &str, fields: Vec<(String, String)>| LogStep {
        after_s: 0.0,
        level: "INFO".into(),
        msg: msg.into(),
        fields,
    };
    let leader = leader.unwrap_or_else(|| topo.pod(true, 0));
    let mut steps = vec![
        step("Upgrade executor starting", vec![]),
        step(
            "Leader found",
            vec![(
                "leader_url".into(),
                format!(
                    "https://{leader}.{}.{}.svc:8200",
                    topo.cluster, topo.namespace
                ),
            )],
        ),
    ];
    for n in 0..topo.replicas {
        let pod = topo.pod(true, n);
        steps.push(step(
            "Removing Blue Raft peer",
            vec![
                ("node_id".into(), pod.clone()),
                (
                    "address".into(),
                    format!("{pod}.{}.{}.svc:8201", topo.cluster, topo.namespace),
                ),
            ],
        ));
    }
    steps.push(step("Blue Raft peers removed", vec![]));
    steps
}

/// What the 0.6 RollbackCleanup Job logs (`RunBlueGreenRemovePeers(cfg, Green,
/// preferred=Blue, fallback=Green, "Green")`, raftops/actions.go): the leader search, then
/// one `Removing Raft peer` per Green peer still in the configuration.
pub(crate) fn remove_green_peers_steps(
    topo: &Topology,
    leader: Option<String>,
    peers: &[String],
) -> Vec<LogStep> {
    let leader = leader.unwrap_or_else(|| topo.pod(true, 0));
    let addr =
        |pod: &str, port: u16| format!("{pod}.{}.{}.svc:{port}", topo.cluster, topo.namespace);
    let mut steps = vec![
        info("Upgrade executor starting", &[]),
        info(
            "Leader search completed",
            &[
                ("decision_path", "primary_success"),
                ("reason_code", "reason_primary_leader_found"),
                ("attempt", "1"),
                ("max_attempts", "10"),
                ("primary_revision", &topo.blue_rev),
                ("fallback_revision", &topo.green_rev),
            ],
        ),
        info(
            "Leader found",
            &[
                ("leader_url", &format!("https://{}", addr(&leader, 8200))),
                ("target_revision", &topo.green_rev),
                ("target_peers", "Green"),
            ],
        ),
    ];
    for pod in peers {
        steps.push(info(
            "Removing Raft peer",
            &[
                ("target", "Green"),
                ("node_id", pod),
                ("address", &addr(pod, 8201)),
            ],
        ));
    }
    steps.push(info("Raft peers removed", &[("target", "Green")]));
    steps
}

fn info(msg: &str, fields: &[(&str, &str)]) -> LogStep {
    LogStep {
        after_s: 0.0,
        level: "INFO".into(),
        msg: msg.into(),
        fields: fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario::Scenario;

    fn topo() -> Topology {
        Topology::of(&Scenario::named("transient").unwrap())
    }

    fn t0() -> Timestamp {
        "2026-11-23T19:30:01.123456Z".parse().unwrap()
    }

    #[test]
    fn info_lines_have_the_zap_development_shape() {
        let common = ExecutorFields::new(&topo(), "bluegreen-repair-consensus");
        let lines = entry(
            t0(),
            &common,
            "INFO",
            "Leader found for consensus repair",
            &[("leader_url".into(), "https://x:8200".into())],
        );
        assert_eq!(lines.len(), 1);
        assert_eq!(
            lines[0],
            "2026-11-23T19:30:01.123Z\tINFO\tLeader found for consensus repair\t\
             {\"action\": \"bluegreen-repair-consensus\", \"cluster_namespace\": \"security\", \
             \"cluster_name\": \"prod-cluster\", \"replicas\": 3, \"blue_revision\": \"e8983038c519c718\", \
             \"green_revision\": \"269c4f7ba494030d\", \"leader_url\": \"https://x:8200\"}"
        );
        let parts: Vec<&str> = lines[0].split('\t').collect();
        assert_eq!(parts.len(), 4);
        let json: Value = serde_json::from_str(parts[3]).unwrap();
        assert_eq!(json["replicas"], 3);
    }

    #[test]
    fn errors_carry_stack_frames_and_quotes_are_escaped() {
        let common = ExecutorFields::new(&topo(), "bluegreen-demote-blue-nonvoters-stepdown");
        let lines = entry(
            t0(),
            &common,
            "ERROR",
            "Failed to demote Blue peer",
            &[("error".into(), "status 500: {\"errors\":[\"x\"]}".into())],
        );
        assert!(lines.len() > 2);
        let json: Value = serde_json::from_str(lines[0].split('\t').nth(3).unwrap()).unwrap();
        assert_eq!(json["error"], "status 500: {\"errors\":[\"x\"]}");
        assert!(lines[1].ends_with("runBlueGreenDemoteBlueNonVotersStepDown"));
        assert!(lines[2].starts_with('\t') && lines[2].contains(".go:"));
        assert!(lines[1..].iter().step_by(2).all(|l| !l.starts_with('\t')));
    }

    #[test]
    fn a_seeded_failed_repair_log_ends_with_the_plain_error() {
        let s = Scenario::named("transient").unwrap();
        let a = s.attempt(0).unwrap();
        let lines = finished_log(
            t0(),
            &topo(),
            "bluegreen-repair-consensus",
            &s.logs[&a.log],
            a.error.as_deref(),
        );
        assert!(lines[0].contains("\tINFO\tUpgrade executor starting\t{"));
        assert!(
            lines[1].starts_with("2026-11-23T19:35:21.723Z\tINFO\t"),
            "{}",
            lines[1]
        );
        assert!(lines[1].contains("no leader found among 3 pods"));
        assert_eq!(
            lines.last().unwrap(),
            "upgrade-executor error: failed to find leader for consensus repair: \
             context cancelled while finding leader: context deadline exceeded"
        );
        assert!(!lines.iter().any(|l| l.contains('{') && l.contains("{ns}")));
    }

    #[test]
    fn persistent_error_keeps_the_escaped_json_body() {
        let s = Scenario::named("persistent").unwrap();
        let err = s.attempt(3).unwrap().error.clone().unwrap();
        assert_eq!(
            error_line(&err),
            r#"upgrade-executor error: failed to read Raft configuration for consensus repair: raft configuration request failed with status 403: {"errors":["1 error occurred:\n\t* permission denied\n\n"]}"#
        );
    }

    #[test]
    fn snapshot_key_and_line() {
        let key = snapshot_key(&topo(), t0(), "1a2b3c4d");
        assert_eq!(
            key,
            "security/prod-cluster/pre-upgrade-2026-11-23T19-30-01Z-1a2b3c4d.snap"
        );
        assert_eq!(
            snapshot_completed_line(&key, 1_048_576),
            format!("Backup completed successfully: {key} (size: 1048576 bytes)")
        );
    }
}
