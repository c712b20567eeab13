//! Log pattern rules: which executor lines the runbook and the operator code give meaning to.
//!
//! Sits between the log follower and the Logs pane: `logs::LineStore` matches each line once
//! on insert (so rendering stays O(visible)), the pane shows the rule's severity badge and the
//! one-line meaning. This is the walking-skeleton rule set; the full engine (rules loaded from
//! `assets/`, highlight spans, search) is a later issue.

use std::sync::LazyLock;

use regex::Regex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warn,
    Info,
}

impl Severity {
    /// The text badge; colour is never the only carrier of severity (NO_COLOR, bad TERM).
    pub fn badge(self) -> &'static str {
        match self {
            Severity::Error => "[ERR]",
            Severity::Warn => "[WRN]",
            Severity::Info => "[INF]",
        }
    }
}

/// Where a rule's meaning comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleSource {
    /// The runbook's log table (`failed-rollback.md`).
    Runbook,
    /// Strings the operator's executor code really prints (operator-facts §3.6).
    OperatorCode,
}

#[derive(Debug)]
pub struct Rule {
    pub id: &'static str,
    pub pattern: &'static str,
    pub severity: Severity,
    /// One line: what the line means for this incident.
    pub meaning: &'static str,
    pub source: RuleSource,
    /// False for runbook strings that the real operator never prints (operator-facts §0.5).
    pub in_operator_code: bool,
    regex: Regex,
}

struct Spec(
    &'static str,
    &'static str,
    Severity,
    RuleSource,
    bool,
    &'static str,
);

/// Most specific first: the first matching rule wins.
const SPECS: &[Spec] = &[
    Spec(
        "runbook-join-blue-pilot",
        r"(?i)failed to join blue pilot to green leader",
        Severity::Error,
        RuleSource::Runbook,
        false,
        "Runbook: network issue between clusters (check NetworkPolicies/DNS, retry). Never printed by the real operator.",
    ),
    Spec(
        "runbook-raft-index-mismatch",
        r"(?i)raft log index mismatch",
        Severity::Error,
        RuleSource::Runbook,
        false,
        "Runbook: Blue too far behind, cannot roll back. Never printed by the real operator (no index check exists).",
    ),
    Spec(
        "permission-denied",
        r"(?i)permission denied|status 403",
        Severity::Error,
        RuleSource::OperatorCode,
        true,
        "OpenBao refused the executor's request (policy/403): not transient, a retry fails again until the policy is fixed.",
    ),
    Spec(
        "no-leader",
        r"(?i)no leader found",
        Severity::Error,
        RuleSource::OperatorCode,
        true,
        "The executor found no active OpenBao node (sealed or down): a retry fails again until a leader exists.",
    ),
    Spec(
        "context-deadline",
        r"(?i)context deadline exceeded",
        Severity::Error,
        RuleSource::Runbook,
        true,
        "Timed out (Go's wrapped error text, 10-min executor timeout or 10 s HTTP timeout): runbook says retry.",
    ),
    Spec(
        "executor-error",
        r"upgrade-executor error:",
        Severity::Error,
        RuleSource::OperatorCode,
        true,
        "The executor's fatal error: the Job fails and the operator enters break glass; the text after it is the cause.",
    ),
    Spec(
        "level-error",
        r"\tERROR\t",
        Severity::Error,
        RuleSource::OperatorCode,
        true,
        "An executor error entry (zap ERROR).",
    ),
    Spec(
        "level-warn",
        r"\tWARN\t",
        Severity::Warn,
        RuleSource::OperatorCode,
        true,
        "An executor warning entry (zap WARN).",
    ),
    Spec(
        "repair-completed",
        r"Consensus repair completed",
        Severity::Info,
        RuleSource::OperatorCode,
        true,
        "Repair succeeded: next RollbackCleanup removes Blue peers (suspected defect, operator-facts §3.7). Check Raft.",
    ),
];

pub struct RuleSet {
    rules: Vec<Rule>,
}

impl RuleSet {
    fn from_specs(specs: &'static [Spec]) -> RuleSet {
        // A pattern that fails to compile is dropped rather than panicking; the test below
        // asserts that every pattern compiles, so this never happens in a shipped build.
        let rules = specs
            .iter()
            .filter_map(|s| {
                Some(Rule {
                    id: s.0,
                    pattern: s.1,
                    severity: s.2,
                    source: s.3,
                    in_operator_code: s.4,
                    meaning: s.5,
                    regex: Regex::new(s.1).ok()?,
                })
            })
            .collect();
        RuleSet { rules }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The first rule matching `line`. Continuation lines (zap stack frames, indented) are
    /// part of the entry above and never match on their own.
    pub fn first_match(&self, line: &str) -> Option<&Rule> {
        if line.starts_with([' ', '\t']) {
            return None;
        }
        self.rules.iter().find(|r| r.regex.is_match(line))
    }
}

/// The level of a zap development-mode line (`<time>\t<LEVEL>\t<msg>...`).
pub fn zap_level(line: &str) -> Option<Severity> {
    match line.split('\t').nth(1)? {
        "ERROR" | "DPANIC" | "PANIC" | "FATAL" => Some(Severity::Error),
        "WARN" => Some(Severity::Warn),
        "INFO" | "DEBUG" => Some(Severity::Info),
        _ => None,
    }
}

/// The rule giving a line its meaning and the severity to badge it with. The line's own
/// level caps the severity: the executor logs `no leader found` at INFO when it falls back
/// to Green, which is not the failure (the same words after `upgrade-executor error:` are).
pub fn classify(line: &str) -> Option<(&'static Rule, Severity)> {
    let rule = skeleton().first_match(line)?;
    let severity = match zap_level(line) {
        Some(level) => rule.severity.max(level),
        None => rule.severity,
    };
    Some((rule, severity))
}

static SKELETON: LazyLock<RuleSet> = LazyLock::new(|| RuleSet::from_specs(SPECS));

/// The built-in rule set.
pub fn skeleton() -> &'static RuleSet {
    &SKELETON
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(line: &str) -> Option<&'static str> {
        skeleton().first_match(line).map(|r| r.id)
    }

    #[test]
    fn every_pattern_compiles() {
        assert_eq!(skeleton().rules().len(), SPECS.len());
    }

    #[test]
    fn real_executor_lines_get_their_meaning() {
        assert_eq!(
            id(
                "upgrade-executor error: raft configuration request failed with status 403: permission denied"
            ),
            Some("permission-denied")
        );
        assert_eq!(
            id("upgrade-executor error: failed to read Raft configuration for consensus repair: x"),
            Some("executor-error")
        );
        assert_eq!(
            id(
                "2026-11-23T10:00:01.000Z\tERROR\tfailed to find leader: no leader found among 3 pods"
            ),
            Some("no-leader")
        );
        assert_eq!(
            id("... context deadline exceeded (Client.Timeout exceeded while awaiting headers)"),
            Some("context-deadline")
        );
        assert_eq!(
            id("2026-11-23T10:00:00.000Z\tINFO\tUpgrade executor starting"),
            None
        );
        assert_eq!(id("2026-11-23T10:00:00.000Z\tWARN\tx"), Some("level-warn"));
    }

    #[test]
    fn runbook_only_strings_are_marked_as_absent_from_the_code() {
        for s in [
            "failed to join blue pilot to green leader",
            "raft log index mismatch",
        ] {
            let r = skeleton().first_match(s).unwrap();
            assert_eq!(r.source, RuleSource::Runbook);
            assert!(!r.in_operator_code, "{}", r.id);
        }
    }

    #[test]
    fn the_line_level_caps_the_severity() {
        let info = "2026-11-23T19:35:21.723Z\tINFO\tFailed to find leader among Blue pods for consensus repair, falling back to Green\t{\"error\": \"no leader found among 3 pods\"}";
        let (rule, sev) = classify(info).unwrap();
        assert_eq!((rule.id, sev), ("no-leader", Severity::Info));
        let fatal = "upgrade-executor error: failed to find leader for consensus repair: context cancelled while finding leader: context deadline exceeded";
        let (rule, sev) = classify(fatal).unwrap();
        assert_eq!((rule.id, sev), ("context-deadline", Severity::Error));
        let (_, sev) = classify("2026-11-23T10:00:00.000Z\tERROR\tpermission denied").unwrap();
        assert_eq!(sev, Severity::Error);
        assert_eq!(zap_level("no tabs here"), None);
    }

    /// Every scenario's executor logs, as the simulator writes them from the operator's real
    /// strings: each fatal error line is badged [ERR] with a meaning, and no INFO or DEBUG
    /// entry ever is.
    #[test]
    fn scenario_logs_are_badged_by_what_failed() {
        use crate::sim::executor_log::finished_log;
        use crate::sim::scenario::{ACTION_REPAIR, Scenario, Topology};
        for name in Scenario::names() {
            let s = Scenario::named(name).unwrap();
            let topo = Topology::of(&s);
            for a in &s.attempts {
                let steps = &s.logs[&a.log];
                for line in finished_log(
                    jiff::Timestamp::UNIX_EPOCH,
                    &topo,
                    ACTION_REPAIR,
                    steps,
                    a.error.as_deref(),
                ) {
                    let got = classify(&line);
                    if line.starts_with("upgrade-executor error:") {
                        assert_eq!(got.map(|(_, s)| s), Some(Severity::Error), "{name}: {line}");
                    }
                    if matches!(zap_level(&line), Some(Severity::Info)) {
                        assert_ne!(got.map(|(_, s)| s), Some(Severity::Error), "{name}: {line}");
                    }
                }
            }
        }
    }

    #[test]
    fn stack_frames_do_not_match() {
        assert_eq!(
            id("\t/workspace/internal/upgrade/executor.go:42 permission denied"),
            None
        );
    }
}
