//! The 0.6 line's executor and controller strings (internal/service/upgrade/raftops and
//! bluegreen of the 0.5.1/kubebao line) in their real format: zap's development console
//! encoder (`<time>\t<LEVEL>\t<message>\t{"json fields"}`) and the fatal
//! `upgrade-executor error: …` line.

use super::*;
use crate::sim::executor_log::{ExecutorFields, entry, error_line};
use crate::sim::scenario::{Scenario, Topology};

const REPAIR: &str = "bluegreen-repair-consensus";
const CLEANUP: &str = "bluegreen-remove-green-peers";

fn zap(action: &str, level: &str, msg: &str, extra: &[(&str, &str)]) -> String {
    let topo = Topology::of(&Scenario::named("transient").unwrap());
    let common = ExecutorFields::new(&topo, action);
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let t: jiff::Timestamp = "2026-12-04T11:02:03.456Z".parse().unwrap();
    entry(t, &common, level, msg, &extra)[0].clone()
}

fn search(path: &str, code: &str) -> String {
    zap(
        REPAIR,
        "INFO",
        "Leader search completed",
        &[
            ("decision_path", path),
            ("reason_code", code),
            ("attempt", "3"),
            ("max_attempts", "3"),
            ("primary_revision", "e8983038c519c718"),
            ("fallback_revision", "269c4f7ba494030d"),
        ],
    )
}

/// Each 0.6 line, the rule that must give it its meaning, and the badge.
pub(super) fn cases() -> Vec<(String, &'static str, Severity)> {
    use Severity::{Error as E, Info as I, Warn as W};
    let green0 = "prod-cluster-269c4f7ba494030d-0";
    let addr = "prod-cluster-269c4f7ba494030d-0.prod-cluster-internal.security.svc:8201";
    vec![
        (
            error_line(
                "refusing consensus repair: 0 Blue peers remain in the Raft configuration, need 2 of 3 for quorum",
            ),
            "repair-refused-no-blue-quorum",
            E,
        ),
        (
            error_line(&format!(
                "failed to demote Green peer \"{green0}\" to non-voter during consensus repair: raft demote request failed with status 500: internal error"
            )),
            "repair-demote-green-fatal",
            E,
        ),
        (
            error_line(
                "failed to find leader for consensus repair: failed to find leader (checked Blue and Green): no leader found among 3 pods",
            ),
            "leader-search-both-failed",
            E,
        ),
        (
            error_line(
                "failed to find leader: failed to find leader (checked preferred and fallback): context cancelled while finding leader: context deadline exceeded",
            ),
            "leader-search-both-failed",
            E,
        ),
        (
            error_line(
                "failed to create OpenBao client for consensus repair: failed to authenticate: JWT auth request failed with status 400: invalid audience",
            ),
            "client-authenticate-failed",
            E,
        ),
        (
            error_line(
                "failed to create OpenBao client: failed to authenticate: JWT auth request failed with status 400: role not found",
            ),
            "client-authenticate-failed",
            E,
        ),
        (
            error_line(&format!(
                "failed to remove Raft peer \"{green0}\": raft remove-peer request failed with status 500: x"
            )),
            "remove-peer-failed",
            E,
        ),
        (
            search("primary_success", "reason_primary_leader_found"),
            "leader-search-ok",
            I,
        ),
        (
            search(
                "primary_failed_fallback_success",
                "reason_fallback_leader_found",
            ),
            "leader-search-fallback-used",
            W,
        ),
        (
            search(
                "primary_failed_fallback_failed",
                "reason_fallback_leader_not_found",
            ),
            "leader-search-failed-path",
            E,
        ),
        (
            search("deadline_exceeded", "reason_deadline_exceeded"),
            "leader-search-failed-path",
            E,
        ),
        (
            zap(
                REPAIR,
                "INFO",
                "Failed to find leader among Blue pods, checking Green pods",
                &[
                    ("error", "no leader found among 3 pods"),
                    ("decision_path", "primary_failed_fallback_failed"),
                    ("reason_code", "reason_fallback_leader_not_found"),
                ],
            ),
            "leader-fallback-after-both-failed",
            E,
        ),
        (
            zap(
                CLEANUP,
                "INFO",
                "Failed to find leader among preferred pods, checking fallback pods",
                &[("error", "no leader found among 3 pods")],
            ),
            "leader-fallback-after-both-failed",
            E,
        ),
        (
            zap(
                CLEANUP,
                "INFO",
                "Removing Raft peer",
                &[("target", "Green"), ("node_id", green0), ("address", addr)],
            ),
            "removing-green-peer",
            I,
        ),
        (
            zap(
                CLEANUP,
                "INFO",
                "Raft peers removed",
                &[("target", "Green")],
            ),
            "removing-green-peer",
            I,
        ),
        (
            zap(
                "bluegreen-remove-blue-peers",
                "INFO",
                "Removing Raft peer",
                &[
                    ("target", "Blue"),
                    ("node_id", "prod-cluster-e8983038c519c718-0"),
                    ("address", "prod-cluster-e8983038c519c718-0:8201"),
                ],
            ),
            "removing-blue-peer-forward",
            I,
        ),
        (
            zap(
                CLEANUP,
                "INFO",
                "Leader found",
                &[
                    (
                        "leader_url",
                        "https://prod-cluster-e8983038c519c718-0.prod-cluster-internal.security.svc:8200",
                    ),
                    ("target_revision", "269c4f7ba494030d"),
                    ("target_peers", "Green"),
                ],
            ),
            "leader-found-target",
            I,
        ),
        // Controller (operator pod) lines.
        (
            zap(
                "",
                "INFO",
                "Refusing rollback after Blue peer removal started; retrying current phase",
                &[
                    ("phase", "Cleanup"),
                    (
                        "reason",
                        "cleanup peer removal job failure threshold exceeded",
                    ),
                ],
            ),
            "rollback-refused-past-no-return",
            W,
        ),
        (
            zap("", "INFO", "Manual rollback requested", &[]),
            "manual-rollback-request",
            I,
        ),
        (
            zap(
                "",
                "INFO",
                "Ignoring rollback request because Blue peer removal has started",
                &[],
            ),
            "manual-rollback-request",
            I,
        ),
        (
            zap(
                "",
                "INFO",
                "Waiting for steady read replicas to scale down before blue/green continues",
                &[("statefulSet", "prod-cluster-read"), ("specReplicas", "2")],
            ),
            "read-replicas-scaling-down",
            I,
        ),
        (
            zap(
                "",
                "ERROR",
                "Reconciler error",
                &[(
                    "error",
                    "failed to retire discarded Green data: discarded Green PVC data-prod-cluster-269c4f7ba494030d-0 lacks cluster UID ownership",
                )],
            ),
            "retire-green-data-failed",
            E,
        ),
    ]
}

#[test]
fn lines_of_the_06_line_get_their_meaning() {
    let set = RuleSet::builtin();
    for (line, want, sev) in cases() {
        let got = set.classify(&line).map(|(r, s)| (r.id.as_str(), s));
        assert_eq!(got, Some((want, sev)), "{line}");
        let rule = set.rules().iter().find(|r| r.id == want).unwrap();
        assert!(
            rule.generations
                .as_ref()
                .is_some_and(|g| g.iter().any(|x| x == "0.6")),
            "{want} is printed by the 0.6 line"
        );
    }
}

/// The 0.1 strings that the 0.6 line no longer prints keep their 0.1 meaning, and are
/// marked as 0.1 only.
#[test]
fn retired_01_strings_stay_and_are_marked_01() {
    let set = RuleSet::builtin();
    for (line, want) in [
        (
            zap(
                REPAIR,
                "INFO",
                "Failed to find leader among Blue pods for consensus repair, falling back to Green",
                &[("error", "no leader found among 3 pods")],
            ),
            "repair-fallback-green",
        ),
        (
            zap(
                REPAIR,
                "INFO",
                "Failed to demote Green peer (may already be non-voter)",
                &[],
            ),
            "demote-green-failed",
        ),
        (
            zap(CLEANUP, "INFO", "Removing Blue Raft peer", &[]),
            "removing-blue-peer",
        ),
    ] {
        let (rule, sev) = set.classify(&line).unwrap();
        assert_eq!(rule.id, want, "{line}");
        assert_eq!(sev, Severity::Info, "{line}");
        assert_eq!(rule.generations.as_deref(), Some(&["0.1".to_string()][..]));
    }
}

#[test]
fn every_builtin_rule_names_its_generations_and_they_are_validated() {
    for r in RuleSet::builtin().rules() {
        let g = r.generations.as_ref().unwrap_or_else(|| panic!("{}", r.id));
        assert_eq!(g.is_empty(), r.runbook_only(), "{}", r.id);
        assert!(r.generations_label().is_some());
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.toml");
    for (value, want) in [
        ("[\"0.7\"]", "generation \"0.7\" is not one of"),
        ("\"0.6\"", "generations must be a list"),
        ("[\"0.6\", \"0.6\"]", "twice"),
        ("[1]", "generations must be strings"),
    ] {
        std::fs::write(
            &path,
            format!("[[rule]]\nid = \"x\"\nregex = 'x'\nseverity = \"info\"\nmeaning = \"m\"\ngenerations = {value}\n"),
        )
        .unwrap();
        let set = RuleSet::load(Some(&path), None);
        let p = &set.problems()[0];
        assert!(p.message.contains(want), "{value}: {p}");
        assert_eq!(p.line, 1, "{p}");
    }
    std::fs::write(
        &path,
        "[[rule]]\nid = \"x\"\nregex = 'x'\nseverity = \"info\"\nmeaning = \"m\"\ngenerations = [\"0.2-0.5.0\"]\nuncapped = true\n",
    )
    .unwrap();
    let set = RuleSet::load(Some(&path), None);
    assert!(set.problems().is_empty(), "{:?}", set.problems());
    let x = &set.rules()[0];
    assert_eq!(x.generations_label().unwrap(), "operator 0.2-0.5.0");
    assert!(x.uncapped);
}
