//! Diagnosis: from the incident snapshot (plus log evidence, data freshness and RBAC) to a
//! recommended path, the evidence for it, and for every path whether it can be taken now.
//!
//! Pure and table-tested (`diagnosis_tests.rs`). Every finding names its source (a log
//! line, a status field, a Raft index, a pod) so the user can check it. What every operator
//! line shares is here: a cause seen in two attempts is not transient, and Idle restarts the
//! upgrade unless the spec is reverted. What differs by line (a crash-looping Green aborts
//! on 0.1, RollbackCleanup's peer removal) is added by `path_truth::apply_line`.

use std::collections::BTreeMap;

use super::incident::{Incident, Side};
use super::paths::{self, PathKind};
use super::raft::{self, SYNC_THRESHOLD};
use super::rollback_jobs::RollbackStep;

/// How bad a matched log line is (mirrors the log engine's severities).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warn,
    Info,
}

/// One matched log line, as the log engine hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The pattern rule's id (`permission-denied`, `no-leader`, `context-deadline`, ...).
    pub rule_id: String,
    pub level: Level,
    /// The path the rule speaks for, when it does.
    pub path_hint: Option<PathKind>,
    pub line: String,
    /// The repair attempt the line came from (0 = `rollback`, N = `rollback-retry-N`).
    pub attempt: Option<i32>,
    /// How many lines of this attempt the rule matched (`line` is the newest of them).
    pub count: u64,
}

/// Rules whose cause does not go away by retrying (their meanings in assets/patterns.toml).
/// The 0.6 line's own (`refusing consensus repair`, the fatal leader searches that wrap
/// `no leader found`, the JWT login inside client creation) count the same.
const NOT_TRANSIENT_RULES: [&str; 11] = [
    "raft-config-forbidden",
    "raft-request-forbidden",
    "jwt-auth-failed",
    "jwt-token-unreadable",
    "executor-config-invalid",
    "permission-denied",
    "no-leader",
    "client-authenticate-failed",
    "repair-refused-no-blue-quorum",
    "leader-search-both-failed",
    "leader-fallback-after-both-failed",
];
/// Rules the runbook calls transient.
const TRANSIENT_RULES: [&str; 1] = ["context-deadline"];

/// Which data the decision depends on is stale or unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Freshness {
    pub cluster_stale: bool,
    pub pods_stale: bool,
    pub raft_stale: bool,
    pub unparseable: bool,
}

/// A permission the RBAC preflight found missing for a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub path: PathKind,
    /// e.g. `patch openbaoclusters.openbao.org`.
    pub permission: String,
}

pub(crate) struct Inputs<'a> {
    pub incident: &'a Incident,
    pub evidence: &'a [Evidence],
    pub freshness: Freshness,
    pub denied: &'a [Denied],
}

/// Where a finding comes from, so it can be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    LogLine {
        attempt: Option<i32>,
        line: String,
    },
    Field(String),
    RaftIndex {
        pod: String,
        committed: u64,
    },
    Pod(String),
    Job(String),
    /// A Kubernetes Event: `<reason> <kind>/<name>` (`event_evidence`).
    Event(String),
}

impl Source {
    pub fn label(&self) -> String {
        match self {
            Source::LogLine {
                attempt: Some(a),
                line,
            } => format!("log (attempt {a}): {line}"),
            Source::LogLine {
                attempt: None,
                line,
            } => format!("log: {line}"),
            Source::Field(f) => format!("field {f}"),
            Source::RaftIndex { pod, committed } => format!("raft {pod} committed={committed}"),
            Source::Pod(p) => format!("pod {p}"),
            Source::Job(j) => format!("job {j}"),
            Source::Event(e) => format!("event {e}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub text: String,
    pub source: Source,
}

/// One path: can it be taken now, and what will really happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathVerdict {
    pub path: PathKind,
    /// Empty means available.
    pub why_not: Vec<String>,
    pub warnings: Vec<String>,
}

impl PathVerdict {
    pub fn available(&self) -> bool {
        self.why_not.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    pub recommended: Option<PathKind>,
    pub summary: String,
    /// What to do before taking the recommended path.
    pub before: Vec<String>,
    pub findings: Vec<Finding>,
    /// In `paths::ALL` order.
    pub paths: Vec<PathVerdict>,
}

impl Diagnosis {
    pub fn verdict(&self, path: PathKind) -> Option<&PathVerdict> {
        self.paths.iter().find(|v| v.path == path)
    }
}

/// What the evidence says about the cause of the failures.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cause {
    Unknown,
    Transient(String),
    /// The rule id and in how many distinct attempts it was seen.
    NotTransient(String, usize),
}

fn cause(evidence: &[Evidence]) -> Cause {
    let mut attempts: BTreeMap<&str, Vec<Option<i32>>> = BTreeMap::new();
    for e in evidence.iter().filter(|e| e.level == Level::Error) {
        let seen = attempts.entry(e.rule_id.as_str()).or_default();
        if !seen.contains(&e.attempt) {
            seen.push(e.attempt);
        }
    }
    if let Some((rule, seen)) = attempts
        .iter()
        .filter(|(r, _)| NOT_TRANSIENT_RULES.contains(r))
        .max_by_key(|(_, s)| s.len())
    {
        return Cause::NotTransient((*rule).to_string(), seen.len());
    }
    match attempts.keys().find(|r| TRANSIENT_RULES.contains(r)) {
        Some(rule) => Cause::Transient((*rule).to_string()),
        None => Cause::Unknown,
    }
}

/// Green's version: the Green pods' `openbao-version` label (the StatefulSet's pods say
/// what actually runs), else `spec.version` when the phase is a rollback (it is Green's).
pub(crate) fn green_version(incident: &Incident) -> Option<(String, Source)> {
    if let Some(p) = incident.pods_on(Side::Green).find(|p| p.version.is_some()) {
        let v = p.version.clone()?;
        return Some((v, Source::Pod(p.name.clone())));
    }
    let c = incident.cluster.as_ref()?;
    c.blue_green.as_ref()?.green_revision.as_ref()?;
    Some((c.spec_version.clone(), Source::Field("spec.version".into())))
}

/// The snapshot a restore would use, when the status knows one.
pub(crate) fn known_snapshot(incident: &Incident) -> Option<(String, Source)> {
    let c = incident.cluster.as_ref()?;
    c.last_backup_name
        .clone()
        .map(|k| (k, Source::Field("status.backup.lastBackupName".into())))
}

pub(crate) fn diagnose(input: &Inputs) -> Diagnosis {
    let incident = input.incident;
    let findings = findings(input);
    let blockers = common_blockers(input);
    let cause = cause(input.evidence);
    let failing_green: Vec<&str> = incident
        .pods_on(Side::Green)
        .filter(|p| p.is_failing())
        .map(|p| p.name.as_str())
        .collect();
    let paths = paths::ALL
        .iter()
        .map(|p| verdict(*p, input, &blockers, &cause, &failing_green))
        .collect();
    let (recommended, summary, before) = recommend(&blockers, &cause);
    Diagnosis {
        recommended,
        summary,
        before,
        findings,
        paths,
    }
}

/// Reasons no path can be taken (stale data, no cluster, break glass over).
fn common_blockers(input: &Inputs) -> Vec<String> {
    let f = input.freshness;
    let mut out = Vec::new();
    if f.cluster_stale {
        out.push("cluster data is stale: no action until it is fresh again".into());
    }
    if f.pods_stale {
        out.push("pod data is stale (Green's health decides retry vs abort)".into());
    }
    if f.unparseable {
        out.push("the latest cluster object does not parse".into());
    }
    match &input.incident.cluster {
        None => out.push("no cluster data".into()),
        Some(c) if !c.break_glass_active() => out.push("break glass is not active".into()),
        Some(c) if c.active_nonce().is_none() => out.push("break glass has no nonce".into()),
        Some(_) => {}
    }
    out
}

fn verdict(
    path: PathKind,
    input: &Inputs,
    blockers: &[String],
    cause: &Cause,
    failing_green: &[&str],
) -> PathVerdict {
    let mut why_not: Vec<String> = blockers.to_vec();
    why_not.extend(
        input
            .denied
            .iter()
            .filter(|d| d.path == path)
            .map(|d| format!("missing permission: {}", d.permission)),
    );
    let incident = input.incident;
    let cluster = incident.cluster.as_ref();
    let blue_version = cluster.and_then(|c| c.current_version.clone());
    let mut warnings = Vec::new();
    match path {
        PathKind::Retry => {
            if let Cause::NotTransient(rule, n) = cause {
                warnings.push(format!(
                    "cause `{rule}` seen in {n} attempt(s) is not transient: the retry fails again with a NEW nonce"
                ));
            }
            if let Some(v) = &blue_version {
                warnings.push(format!(
                    "back at Idle the upgrade restarts unless spec.version is reverted to {v} (offered as a follow-up)"
                ));
            }
        }
        PathKind::FixForward => match green_version(incident) {
            None => {
                why_not.push("Green's version is unknown (no Green pods, no Green revision)".into())
            }
            Some((green, src)) => {
                let spec = cluster.map(|c| c.spec_version.as_str()).unwrap_or("");
                if spec == green {
                    warnings.push(format!(
                        "spec.version already is Green's {green} ({}): with the real operator this is a Retry of the rollback",
                        src.label()
                    ));
                }
                if !failing_green.is_empty() {
                    warnings.push("Green is failing: staying on Green is not possible".into());
                }
            }
        },
        PathKind::Restore => {
            if known_snapshot(incident).is_none() {
                warnings.push("no snapshot key in status: take it from the pre-upgrade snapshot Job's log or type it".into());
            }
            warnings.push("the restore controller runs inside the operator: it must be running when the OpenBaoRestore is created".into());
        }
        // Offered or not by operator line (path_truth).
        PathKind::PauseRepair => {}
    }
    PathVerdict {
        path,
        why_not,
        warnings,
    }
}

/// Line-neutral; what a crash-looping Green changes is the operator line's
/// (`path_truth::apply_line`).
fn recommend(blockers: &[String], cause: &Cause) -> (Option<PathKind>, String, Vec<String>) {
    if let Some(first) = blockers.first() {
        return (None, format!("no recommendation: {first}"), Vec::new());
    }
    match cause {
        Cause::NotTransient(rule, n) => (
            Some(PathKind::Retry),
            format!("`{rule}` in {n} attempt(s): not transient. A retry as-is fails again with a new nonce."),
            vec![format!("fix the cause behind `{rule}` first (e.g. the upgrade role's OpenBao policy), then Retry")],
        ),
        Cause::Transient(rule) => (
            Some(PathKind::Retry),
            format!("`{rule}` looks transient: Retry (acknowledge) is the runbook's first step."),
            Vec::new(),
        ),
        Cause::Unknown => (
            Some(PathKind::Retry),
            "no known cause in the logs yet: Retry is the least destructive path; read the logs first.".into(),
            Vec::new(),
        ),
    }
}

fn findings(input: &Inputs) -> Vec<Finding> {
    let incident = input.incident;
    let mut out = Vec::new();
    if let Some(c) = &incident.cluster
        && let Some(bg) = &c.break_glass
        && bg.active
    {
        out.push(Finding {
            text: format!(
                "break glass active ({})",
                bg.reason.as_deref().unwrap_or("no reason")
            ),
            source: Source::Field("status.breakGlass.active".into()),
        });
    }
    // This operation's rollback Jobs only (a previous operation's stay for an hour), the
    // Job break glass names as the source.
    let rollback = incident.rollback_jobs();
    let failed: Vec<_> = rollback
        .iter()
        .filter(|r| r.job.state == super::JobState::Failed)
        .collect();
    let named = failed.iter().find(|r| r.named_failed).or(failed.last());
    if let Some(last) = named {
        let count = |step| failed.iter().filter(|r| r.step == step).count();
        let (repair, cleanup) = (count(RollbackStep::Repair), count(RollbackStep::Cleanup));
        out.push(Finding {
            text: if cleanup == 0 {
                format!("{repair} repair attempt(s) failed")
            } else {
                format!("{repair} repair and {cleanup} cleanup attempt(s) failed")
            },
            source: Source::Job(last.job.name.clone()),
        });
    }
    for e in input.evidence.iter().filter(|e| e.level == Level::Error) {
        if NOT_TRANSIENT_RULES.contains(&e.rule_id.as_str())
            || TRANSIENT_RULES.contains(&e.rule_id.as_str())
        {
            out.push(Finding {
                text: if e.count > 1 {
                    format!("matched `{}` ({} lines)", e.rule_id, e.count)
                } else {
                    format!("matched `{}`", e.rule_id)
                },
                source: Source::LogLine {
                    attempt: e.attempt,
                    line: e.line.clone(),
                },
            });
        }
    }
    for p in incident.pods_on(Side::Green).filter(|p| p.is_failing()) {
        out.push(Finding {
            text: format!(
                "Green pod {}",
                p.waiting_reason.as_deref().unwrap_or("failing")
            ),
            source: Source::Pod(p.name.clone()),
        });
    }
    if !input.freshness.raft_stale
        && let Some(behind) = raft::blue_behind_green(&incident.raft)
        && behind > SYNC_THRESHOLD
        && let Some(blue) = incident
            .raft
            .iter()
            .filter(|r| r.side == Side::Blue)
            .filter_map(|r| Some((r, r.committed?)))
            .max_by_key(|(_, c)| *c)
    {
        out.push(Finding {
            text: format!(
                "Blue is {behind} entries behind Green: replication lag inside one Raft cluster, not divergence; the rollback makes no index check ({SYNC_THRESHOLD} is the forward path's Syncing threshold)"
            ),
            source: Source::RaftIndex {
                pod: blue.0.pod.clone(),
                committed: blue.1,
            },
        });
    }
    if let Some((v, src)) = green_version(incident) {
        out.push(Finding {
            text: format!("Green runs {v}"),
            source: src,
        });
    }
    if let Some((key, src)) = known_snapshot(incident) {
        out.push(Finding {
            text: format!("last backup {key}"),
            source: src,
        });
    }
    out
}

#[cfg(test)]
#[path = "diagnosis_tests.rs"]
mod tests;
