//! The kubelet's side of the rig: kwok's configuration (its pod Stages and the log files it
//! serves per namespace).

use std::path::Path;

/// The pod Stages kwok plays (`kwok-stages.yaml`: its default ones, plus a container that
/// ends with the exit code its pod is annotated with).
const POD_STAGES: &str = include_str!("kwok-stages.yaml");

/// The kwok configuration: the pod Stages above, kwok's default node Stages (used when none
/// are given), and one ClusterLogs per test namespace serving every container's log from
/// `logs/<namespace>.log` (CRI format) and `logs/<namespace>.previous.log`.
pub fn config(dir: &Path, namespaces: &[String]) -> String {
    let logs = dir.join("logs");
    std::iter::once(POD_STAGES.to_string())
        .chain(namespaces.iter()
        .map(|ns| {
            format!(
                "apiVersion: kwok.x-k8s.io/v1alpha1\nkind: ClusterLogs\nmetadata:\n  name: logs-{ns}\nspec:\n  selector:\n    matchNamespaces: [{ns}]\n  logs:\n  - logsFile: {}\n    previousLogsFile: {}\n    follow: true\n",
                logs.join(format!("{ns}.log")).display(),
                logs.join(format!("{ns}.previous.log")).display(),
            )
        }))
        .collect::<Vec<_>>()
        .join("---\n")
}
