//! Scenarios as data (`assets/scenarios/*.toml`, embedded): the incident the twin plays.
//!
//! A scenario fixes the cluster (namespace, name, Blue/Green versions, replicas), what each
//! rollback attempt does (attempt 0 is the seeded failed `rollback` Job, attempt N the Job
//! of the N-th acknowledgement), the executor log scripts, the Raft indices of the simulated
//! OpenBao nodes and the timing knobs. `twin_seed` turns it into store objects, `twin` plays
//! it, `openbao_sim` answers for its nodes. [`Topology`] derives every name the operator would.
//!
//! File format (TOML; unknown keys are rejected):
//!
//! ```toml
//! name = "transient"                 # must match the file's registered name
//! description = "..."
//! namespace = "security"
//! cluster = "prod-cluster"
//! blue_version = "2.4.3"             # image openbao/openbao:<v>; revisions via naming::revision
//! green_version = "2.4.4"
//! replicas = 3
//! operators = ["0.1", "0.6"]         # optional: the lines it plays on (default both)
//! failed_step = "repair"             # optional: repair | cleanup (0.6 only: the attempts are
//! repair_log = "repair-ok"           #   then the cleanup's; repair_log = the seeded repair)
//!
//! [timing]                           # milliseconds at speed 1.0 (Scenario::with_speed divides)
//! ack_to_status_ms = 600             # ack seen -> status written (active=false, attempt+1)
//! status_to_job_ms = 3000            # status -> next reconcile (abort check, new Job); <= 5000
//! pod_start_ms = 1200                # Job pod Pending -> Running (also the operator's own pod)
//! job_run_ms = 6000                  # repair Job run; its log lines are spread over this
//! blue_leader_ms = 2500              # success -> Blue leader confirmed (RollbackCleanup)
//! cleanup_job_ms = 3000              # remove-blue-peers Job run
//! green_delete_ms = 1500             # Green StatefulSet deleted -> Green pods gone
//! tick_ms = 250                      # Raft model tick
//!
//! [raft]
//! leader = "green-0"                 # blue-<n> | green-<n>
//! green_index = 48210                # committed index of Green (the leader's side)
//! blue_lag = 37                      # Blue behind, in entries
//! writes_per_s = 4.0
//! catchup_per_s = 1800.0
//! blue_replicating = true            # false: Blue is stalled, its lag grows
//! removed = ["green-0"]              # optional: peers no longer in the Raft configuration
//!
//! [green]                            # optional
//! crashloop = false                  # true: CrashLoopBackOff, nothing listens on 8200
//! restarts = 0
//!
//! [forward_failure]                  # the last failed DemotingBlue Job (lastJobFailure)
//! log = "demote-stepdown"
//! error = "..."
//! duration_s = 16.8                  # optional run time; default: just after the last line
//!
//! [[attempt]]                        # 0 = seeded `rollback`, N = `rollback-retry-N`;
//! outcome = "failure"                # the last entry repeats. failure | success
//! log = "leader-timeout"
//! error = "..."                      # printed as `upgrade-executor error: <error>`
//! duration_s = 600.2                 # optional, for the seeded Job's timestamps
//! v06 = { log = "x-06", outcome = "success", error = "..." }  # what 0.6 does instead
//!                                    # (required on both-line scenarios; log required)
//!
//! [[log.leader-timeout]]             # one executor log entry
//! after_s = 0.4                      # zap timestamp offset in seeded logs
//! level = "INFO"                     # DEBUG | INFO | WARN | ERROR (WARN/ERROR get stack frames)
//! msg = "Upgrade executor starting"
//! fields = [["error", "no leader found among {replicas} pods"]]
//! ```
//!
//! Placeholders in messages, fields and errors: `{ns}`, `{cluster}`, `{blue}`, `{green}`
//! (revisions), `{replicas}`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::operator_line::OperatorLine;

mod topology;
pub use topology::*;

/// The embedded scenario files, by name. The first is the default.
const FILES: [(&str, &str); 4] = [
    (
        "transient",
        include_str!("../../assets/scenarios/transient.toml"),
    ),
    (
        "persistent",
        include_str!("../../assets/scenarios/persistent.toml"),
    ),
    (
        "green-crashloop",
        include_str!("../../assets/scenarios/green-crashloop.toml"),
    ),
    (
        "cleanup-failed",
        include_str!("../../assets/scenarios/cleanup-failed.toml"),
    ),
];

/// The scenario `demo` and `sim` play when none is named.
pub(crate) const DEFAULT: &str = "transient";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScenarioError {
    #[error("unknown scenario {name:?}; valid scenarios: {}", valid.join(", "))]
    Unknown { name: String, valid: Vec<String> },
    #[error("scenario {name:?} does not parse: {detail}")]
    Parse { name: String, detail: String },
    #[error("scenario {name:?} is invalid: {detail}")]
    Invalid { name: String, detail: String },
    #[error("scenario {name:?} is not played on operator {line} (it is for {})", supported.join(", "))]
    Unsupported {
        name: String,
        line: OperatorLine,
        supported: Vec<String>,
    },
    #[error("speed must be a positive finite number, not {0}")]
    Speed(f64),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub namespace: String,
    pub cluster: String,
    pub blue_version: String,
    pub green_version: String,
    pub replicas: i32,
    pub timing: Timing,
    pub raft: RaftSetup,
    #[serde(default)]
    pub green: GreenSetup,
    pub forward_failure: ForwardFailure,
    #[serde(rename = "attempt")]
    pub attempts: Vec<Attempt>,
    #[serde(rename = "log")]
    pub logs: BTreeMap<String, Vec<LogStep>>,
    /// The operator lines this scenario can be played on (`0.1`, `0.6`); default both.
    #[serde(default = "both_lines")]
    pub operators: Vec<String>,
    /// The rollback step whose Job failed and entered break glass.
    #[serde(default)]
    pub failed_step: FailedStep,
    /// `failed_step = "cleanup"`: the log of the seeded repair Job, which succeeded.
    #[serde(default)]
    pub repair_log: Option<String>,
    /// The line being played. Not in the files; see [`Scenario::with_operator`].
    #[serde(skip)]
    pub operator: OperatorLine,
    /// `status.blueGreen.operationID` (`bg-v2-<uuid v4>` on 0.6, empty on 0.1); drawn by
    /// [`Scenario::with_operator`].
    #[serde(skip)]
    pub operation_id: String,
    /// Time scale: 2.0 plays everything twice as fast. Not in the files; see [`Scenario::with_speed`].
    #[serde(skip, default = "one")]
    pub speed: f64,
}

fn one() -> f64 {
    1.0
}

fn both_lines() -> Vec<String> {
    OperatorLine::ALL.map(|l| l.label().to_string()).to_vec()
}

/// Which rollback Job entered break glass (the two reasons of `break_glass.go`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailedStep {
    /// `bluegreen-repair-consensus` in RollingBack (`RollbackConsensusRepairFailed`).
    #[default]
    Repair,
    /// `bluegreen-remove-green-peers` in RollbackCleanup (`RollbackCleanupPeerRemovalFailed`,
    /// 0.6 only); the attempts are then the cleanup's.
    Cleanup,
}

/// Delays in milliseconds at speed 1.0.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    pub ack_to_status_ms: u64,
    /// At most 5000: the operator requeues 5 s after an acknowledgement.
    pub status_to_job_ms: u64,
    pub pod_start_ms: u64,
    pub job_run_ms: u64,
    pub blue_leader_ms: u64,
    pub cleanup_job_ms: u64,
    pub green_delete_ms: u64,
    pub tick_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaftSetup {
    /// `blue-<n>` or `green-<n>`.
    pub leader: String,
    pub green_index: u64,
    /// How far Blue is behind Green's leader, in entries.
    pub blue_lag: u64,
    pub writes_per_s: f64,
    pub catchup_per_s: f64,
    /// false: Blue followers do not replicate (their lag grows).
    pub blue_replicating: bool,
    /// Peers (`blue-<n>` / `green-<n>`) already removed from the Raft configuration.
    #[serde(default)]
    pub removed: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GreenSetup {
    #[serde(default)]
    pub crashloop: bool,
    #[serde(default)]
    pub restarts: i32,
}

/// The last failed forward-path (DemotingBlue) Job, named in `lastJobFailure`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardFailure {
    pub log: String,
    pub error: String,
    /// Executor run time in seconds; default: just after the last log entry.
    #[serde(default)]
    pub duration_s: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attempt {
    pub outcome: Outcome,
    pub log: String,
    /// The executor's fatal error (printed as `upgrade-executor error: <error>`).
    #[serde(default)]
    pub error: Option<String>,
    /// Executor run time in seconds for the seeded Job; default: just after the last entry.
    #[serde(default)]
    pub duration_s: Option<f64>,
    /// What the 0.6 line does instead (its executor prints other lines; a crash-looping
    /// Green no longer aborts). Required for every attempt of a scenario playable on both.
    #[serde(default)]
    pub v06: Option<LineAttempt>,
}

/// A line's own version of an attempt: its log, and where given its outcome and error.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineAttempt {
    pub log: String,
    #[serde(default)]
    pub outcome: Option<Outcome>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub duration_s: Option<f64>,
}

impl Attempt {
    /// This attempt as `line` plays it.
    fn on(&self, line: OperatorLine) -> Attempt {
        match (&self.v06, line) {
            (Some(v), OperatorLine::V06) => Attempt {
                outcome: v.outcome.unwrap_or(self.outcome),
                log: v.log.clone(),
                error: match v.outcome.unwrap_or(self.outcome) {
                    Outcome::Success => None,
                    Outcome::Failure => v.error.clone().or_else(|| self.error.clone()),
                },
                duration_s: v.duration_s.or(self.duration_s),
                v06: None,
            },
            _ => self.clone(),
        }
    }
}

/// One executor log entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogStep {
    /// Seconds after the executor started (the zap timestamp of seeded logs).
    pub after_s: f64,
    /// `DEBUG`, `INFO`, `WARN` or `ERROR`.
    pub level: String,
    pub msg: String,
    /// Extra fields after the common ones, in order.
    #[serde(default)]
    pub fields: Vec<(String, String)>,
}

impl Scenario {
    /// Names of the embedded scenarios, the default first.
    pub fn names() -> Vec<&'static str> {
        FILES.iter().map(|(n, _)| *n).collect()
    }

    /// The embedded scenario `name`, at speed 1.0.
    pub fn named(name: &str) -> Result<Scenario, ScenarioError> {
        let (_, text) =
            FILES
                .iter()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| ScenarioError::Unknown {
                    name: name.to_string(),
                    valid: Self::names().into_iter().map(String::from).collect(),
                })?;
        Self::parse(name, text)
    }

    /// Parse and check a scenario file.
    pub fn parse(name: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let s: Scenario = toml::from_str(text).map_err(|e| ScenarioError::Parse {
            name: name.to_string(),
            detail: e.to_string(),
        })?;
        s.check().map_err(|detail| ScenarioError::Invalid {
            name: name.to_string(),
            detail,
        })?;
        Ok(s)
    }

    /// The same scenario played `speed` times faster.
    pub fn with_speed(mut self, speed: f64) -> Result<Scenario, ScenarioError> {
        if !(speed.is_finite() && speed > 0.0) {
            return Err(ScenarioError::Speed(speed));
        }
        self.speed = speed;
        Ok(self)
    }

    /// A scenario delay in wall-clock time at the current speed.
    pub fn delay(&self, ms: u64) -> Duration {
        Duration::from_secs_f64(ms as f64 / 1000.0 / self.speed)
    }

    /// The same scenario played on `line`: checks the scenario is meant for it and, on 0.6,
    /// draws the operation ID (`"bg-v2-" + uuid.NewUUID()`, lifecycle.go).
    pub fn with_operator(mut self, line: OperatorLine) -> Result<Scenario, ScenarioError> {
        if !self.operators.iter().any(|l| l == line.label()) {
            return Err(ScenarioError::Unsupported {
                name: self.name.clone(),
                line,
                supported: self.operators.clone(),
            });
        }
        self.operator = line;
        self.operation_id = if line.is_06() {
            format!(
                "{}{}",
                crate::domain::naming::SCOPED_OPERATION_PREFIX,
                super::store::new_uid()
            )
        } else {
            String::new()
        };
        Ok(self)
    }

    /// What attempt `n` does on the line played (0 = the seeded failed Job); the last entry
    /// repeats. None only for a scenario built by hand without attempts.
    pub fn attempt(&self, n: i32) -> Option<Attempt> {
        let i = usize::try_from(n).unwrap_or(0);
        self.attempts
            .get(i)
            .or_else(|| self.attempts.last())
            .map(|a| a.on(self.operator))
    }

    /// How long a seeded executor ran: `duration_s`, else just after its last entry.
    pub(crate) fn run_seconds(&self, log: &str, duration_s: Option<f64>) -> f64 {
        duration_s.unwrap_or_else(|| {
            self.logs
                .get(log)
                .and_then(|steps| steps.iter().map(|s| s.after_s).reduce(f64::max))
                .unwrap_or(0.0)
                + 0.4
        })
    }

    fn check(&self) -> Result<(), String> {
        if self.replicas < 1 {
            return Err("replicas must be at least 1".into());
        }
        let first = self
            .attempts
            .first()
            .ok_or("at least one [[attempt]] is required")?;
        if first.outcome != Outcome::Failure {
            return Err("attempt 0 entered break glass, so it must be a failure".into());
        }
        let lines: Vec<OperatorLine> = self
            .operators
            .iter()
            .map(|l| OperatorLine::parse(l).ok_or_else(|| format!("unknown operator line {l:?}")))
            .collect::<Result<_, _>>()?;
        if lines.is_empty() {
            return Err("operators must name at least one line".into());
        }
        let both = lines.len() > 1;
        if self.failed_step == FailedStep::Cleanup {
            if lines != [OperatorLine::V06] {
                return Err("failed_step = \"cleanup\" exists only on operator 0.6".into());
            }
            match &self.repair_log {
                Some(l) if self.logs.contains_key(l) => {}
                _ => return Err("failed_step = \"cleanup\" needs a known repair_log".into()),
            }
        }
        for (i, a) in self.attempts.iter().enumerate() {
            if both && a.v06.is_none() {
                return Err(format!(
                    "attempt {i} has no v06 (the scenario plays on both lines)"
                ));
            }
            for line in &lines {
                let a = a.on(*line);
                if !self.logs.contains_key(&a.log) {
                    return Err(format!("attempt {i} uses unknown log {:?}", a.log));
                }
                if a.outcome == Outcome::Failure && a.error.is_none() {
                    return Err(format!("attempt {i} fails but has no error"));
                }
            }
        }
        if !self.logs.contains_key(&self.forward_failure.log) {
            return Err(format!(
                "forward_failure uses unknown log {:?}",
                self.forward_failure.log
            ));
        }
        for (name, steps) in &self.logs {
            for s in steps {
                if !matches!(s.level.as_str(), "DEBUG" | "INFO" | "WARN" | "ERROR") {
                    return Err(format!("log {name}: unknown level {:?}", s.level));
                }
            }
        }
        if self.timing.status_to_job_ms > 5000 {
            return Err(
                "timing.status_to_job_ms must be at most 5000 (the operator requeues after 5 s)"
                    .into(),
            );
        }
        if self.timing.tick_ms == 0 {
            return Err("timing.tick_ms must be positive".into());
        }
        leader_of(&self.raft.leader, self.replicas)?;
        for r in &self.raft.removed {
            leader_of(r, self.replicas)?;
        }
        Ok(())
    }
}

/// Which side leads, from `blue-<n>` / `green-<n>`.
pub(crate) fn leader_of(spec: &str, replicas: i32) -> Result<(bool, i32), String> {
    let bad = || format!("raft.leader must be blue-<n> or green-<n>, not {spec:?}");
    let (side, n) = spec.rsplit_once('-').ok_or_else(bad)?;
    let n: i32 = n.parse().map_err(|_| bad())?;
    if !(0..replicas).contains(&n) {
        return Err(format!("raft.leader ordinal {n} is out of range"));
    }
    match side {
        "blue" => Ok((true, n)),
        "green" => Ok((false, n)),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_scenario_parses_and_checks() {
        for name in Scenario::names() {
            let s = Scenario::named(name).unwrap();
            assert_eq!(s.name, name);
            assert_eq!(s.namespace, "security");
            assert_eq!(s.cluster, "prod-cluster");
            assert!(s.timing.status_to_job_ms <= 5000);
        }
        assert_eq!(Scenario::names()[0], DEFAULT);
    }

    #[test]
    fn an_unknown_name_lists_the_valid_ones() {
        let e = Scenario::named("nope").unwrap_err();
        let msg = e.to_string();
        for n in Scenario::names() {
            assert!(msg.contains(n), "{msg}");
        }
    }

    #[test]
    fn invalid_files_are_rejected_with_a_reason() {
        let text = include_str!("../../assets/scenarios/transient.toml");
        let bad = text.replace("status_to_job_ms = 3000", "status_to_job_ms = 9000");
        let e = Scenario::parse("x", &bad).unwrap_err();
        assert!(e.to_string().contains("status_to_job_ms"), "{e}");
        let bad = text.replace("log = \"repair-ok\"", "log = \"missing\"");
        assert!(Scenario::parse("x", &bad).is_err());
        let bad = text.replace("leader = \"green-0\"", "leader = \"green-9\"");
        assert!(Scenario::parse("x", &bad).is_err());
    }

    #[test]
    fn the_outcomes_are_what_the_scenarios_promise() {
        let t = Scenario::named("transient").unwrap();
        assert_eq!(t.attempt(0).unwrap().outcome, Outcome::Failure);
        assert_eq!(t.attempt(1).unwrap().outcome, Outcome::Success);
        assert_eq!(t.attempt(7).unwrap().outcome, Outcome::Success);
        let p = Scenario::named("persistent").unwrap();
        for n in 0..4 {
            assert_eq!(p.attempt(n).unwrap().outcome, Outcome::Failure);
            assert!(
                p.attempt(n)
                    .unwrap()
                    .error
                    .as_deref()
                    .unwrap()
                    .contains("status 403")
            );
        }
        assert!(Scenario::named("green-crashloop").unwrap().green.crashloop);
        assert!(p.raft.blue_lag >= 1000 && t.raft.blue_lag < 100);
    }

    #[test]
    fn speed_scales_delays() {
        let s = Scenario::named("transient")
            .unwrap()
            .with_speed(10.0)
            .unwrap();
        assert_eq!(s.delay(3000), Duration::from_millis(300));
        assert!(
            Scenario::named("transient")
                .unwrap()
                .with_speed(0.0)
                .is_err()
        );
    }
}
