use super::*;
use crate::logs::sanitize;
use crate::sim::executor_log::{ExecutorFields, entry, error_line};
use crate::sim::scenario::{Scenario, Topology};

fn builtin() -> &'static RuleSet {
    static B: LazyLock<RuleSet> = LazyLock::new(RuleSet::builtin);
    &B
}

fn id(line: &str) -> Option<&str> {
    builtin().first_match(line).map(|r| r.id.as_str())
}

fn zap(level: &str, msg: &str, extra: &[(&str, &str)]) -> String {
    let topo = Topology::of(&Scenario::named("transient").unwrap());
    let common = ExecutorFields::new(&topo, "bluegreen-repair-consensus");
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let t: jiff::Timestamp = "2026-11-23T19:30:01.123Z".parse().unwrap();
    entry(t, &common, level, msg, &extra)[0].clone()
}

#[test]
fn the_builtin_file_loads_without_problems() {
    let set = builtin();
    assert!(set.problems().is_empty(), "{:?}", set.problems());
    assert!(set.rules().len() >= 25);
    let mut ids: Vec<&str> = set.rules().iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), set.rules().len(), "ids are unique");
}

/// Every rule against a line the real executor prints (dc-tec/openbao-operator@002fbdd `cmd/bao-upgrade/main.go` and the executor in `internal/upgrade`), built with the
/// simulator's zap encoder: the rule that gives the line its meaning, and the badge.
#[test]
fn real_executor_lines_get_their_meaning() {
    use Severity::{Error as E, Info as I, Warn as W};
    let cases: Vec<(String, &str, Severity)> = vec![
        (
            error_line(
                r#"failed to read Raft configuration for consensus repair: raft configuration request failed with status 403: {"errors":["1 error occurred:\n\t* permission denied\n\n"]}"#,
            ),
            "raft-config-forbidden",
            E,
        ),
        (
            error_line(
                "failed to promote Blue peer \"prod-cluster-e8983038c519c718-0\" to voter during consensus repair: raft promote request failed with status 403: permission denied",
            ),
            "raft-request-forbidden",
            E,
        ),
        (
            error_line(
                "failed to authenticate for consensus repair: failed to authenticate using JWT Auth: JWT auth request failed with status 400: {\"errors\":[\"error validating token: invalid audience (aud) claim\"]}",
            ),
            "jwt-auth-failed",
            E,
        ),
        (
            error_line(
                "failed to load upgrade executor config: failed to read JWT token from \"/var/run/secrets/tokens/openbao-token\": open: no such file",
            ),
            "jwt-token-unreadable",
            E,
        ),
        (
            error_line("failed to remove Raft peer \"x\": status 403 permission denied"),
            "permission-denied",
            E,
        ),
        (
            zap(
                "INFO",
                "Failed to find leader among Blue pods for consensus repair, falling back to Green",
                &[("error", "no leader found among 3 pods")],
            ),
            "repair-fallback-green",
            I,
        ),
        (
            error_line("failed to find leader: no leader found among 3 pods"),
            "no-leader",
            E,
        ),
        (
            error_line(
                "failed to find leader for consensus repair: context cancelled while finding leader: context deadline exceeded",
            ),
            "context-deadline",
            E,
        ),
        (
            error_line("failed to find new leader after step-down (checked Green and Blue): x"),
            "leader-search-failed",
            E,
        ),
        (
            zap(
                "WARN",
                "request failed",
                &[(
                    "error",
                    "openbao circuit breaker open for prod-cluster-0 GET /v1/sys/health (retry after 30s)",
                )],
            ),
            "circuit-breaker",
            W,
        ),
        (
            error_line("raft configuration: OpenBao API overloaded (status 503): busy"),
            "api-overloaded",
            W,
        ),
        (
            error_line(
                "failed to read Raft configuration for consensus repair: raft configuration request failed with status 500: x",
            ),
            "repair-read-raft-failed",
            E,
        ),
        (
            error_line(
                "failed to promote Blue peer \"n0\" to voter during consensus repair: raft promote request failed with status 500: x",
            ),
            "repair-promote-failed",
            E,
        ),
        (
            error_line(
                "failed to create OpenBao client for consensus repair: failed to parse CA certificate",
            ),
            "repair-client-failed",
            E,
        ),
        (
            error_line("blue revision is required for consensus repair"),
            "repair-revision-missing",
            E,
        ),
        (
            error_line("invalid upgrade executor config: sync threshold must be greater than 0"),
            "executor-config-invalid",
            E,
        ),
        (
            error_line(
                "failed to remove Raft peer \"prod-cluster-e8983038c519c718-1\": raft remove-peer request failed with status 500: x",
            ),
            "remove-peer-failed",
            E,
        ),
        (
            zap("INFO", "Removing Blue Raft peer", &[("node_id", "n1")]),
            "removing-blue-peer",
            I,
        ),
        (
            zap(
                "INFO",
                "Consensus repair completed: Blue voters and Green non-voters enforced",
                &[],
            ),
            "repair-completed",
            I,
        ),
        (
            zap(
                "INFO",
                "Failed to demote Green peer (may already be non-voter)",
                &[("node_id", "g0"), ("error", "x")],
            ),
            "demote-green-failed",
            I,
        ),
        (
            zap(
                "INFO",
                "Promoting Blue peer to voter during consensus repair",
                &[],
            ),
            "promoting-blue",
            I,
        ),
        (
            error_line("timed out waiting for Green sync: context canceled"),
            "green-sync-timeout",
            E,
        ),
        (
            error_line("failed to join Green pod \"https://g-0:8200\" as non-voter: x"),
            "green-join-failed",
            E,
        ),
        (
            error_line("failed to transfer leadership to Green node after 10 attempts"),
            "leadership-transfer-failed",
            E,
        ),
        (
            error_line("raft autopilot state request failed with status 500: x"),
            "raft-request-failed",
            E,
        ),
        (
            zap("WARN", "WARNING: Green pod not found in Raft config", &[]),
            "green-not-in-raft",
            W,
        ),
        (
            error_line(
                "failed to query health endpoint: dial tcp 10.0.0.1:8200: connect: connection refused",
            ),
            "transient-connection",
            W,
        ),
        (error_line("config is required"), "executor-error", E),
        (zap("ERROR", "Something else", &[]), "level-error", E),
        (zap("WARN", "Something else", &[]), "level-warn", W),
        (
            "2026-11-23T10:00:00.000Z\tERROR\tfailed to join blue pilot to green leader".into(),
            "runbook-join-blue-pilot",
            E,
        ),
        (
            "raft log index mismatch".into(),
            "runbook-raft-index-mismatch",
            E,
        ),
    ];
    let mut cases = cases;
    cases.extend(super::tests_06::cases());
    let mut covered: Vec<&str> = Vec::new();
    for (line, want, sev) in &cases {
        let got = builtin().classify(line).map(|(r, s)| (r.id.as_str(), s));
        assert_eq!(got, Some((*want, *sev)), "{line}");
        covered.push(want);
    }
    for r in builtin().rules() {
        assert!(
            covered.contains(&r.id.as_str()),
            "rule {} has no real line in this test",
            r.id
        );
    }
    assert_eq!(id(&zap("INFO", "Upgrade executor starting", &[])), None);
}

#[test]
fn runbook_only_strings_are_marked_as_absent_from_the_code() {
    for s in [
        "failed to join blue pilot to green leader",
        "raft log index mismatch",
    ] {
        let r = builtin().first_match(s).unwrap();
        assert_eq!(r.source, RuleSource::Runbook);
        assert!(r.runbook_only(), "{}", r.id);
    }
    let r = builtin().first_match("context deadline exceeded").unwrap();
    assert!(!r.runbook_only(), "Go prints it inside wrapped errors");
}

#[test]
fn the_line_level_caps_the_severity() {
    let (rule, sev) = builtin()
        .classify(
            "2026-11-23T10:00:00.000Z\tINFO\tx\t{\"error\": \"no leader found among 3 pods\"}",
        )
        .unwrap();
    assert_eq!((rule.id.as_str(), sev), ("no-leader", Severity::Info));
    assert_eq!(zap_level("no tabs here"), None);
}

/// Every scenario's executor logs: each fatal error line is badged [ERR] with a meaning, and
/// no INFO or DEBUG entry ever is.
#[test]
fn scenario_logs_are_badged_by_what_failed() {
    use crate::sim::executor_log::finished_log;
    use crate::sim::scenario::ACTION_REPAIR;
    for name in Scenario::names() {
        let s = Scenario::named(name).unwrap();
        let topo = Topology::of(&s);
        for a in &s.attempts {
            let steps = &s.logs[&a.log];
            let lines = finished_log(
                jiff::Timestamp::UNIX_EPOCH,
                &topo,
                ACTION_REPAIR,
                steps,
                a.error.as_deref(),
            );
            for line in lines {
                let got = builtin().classify(&line);
                if line.starts_with("upgrade-executor error:") {
                    assert_eq!(got.map(|(_, s)| s), Some(Severity::Error), "{name}: {line}");
                }
                // An INFO entry is never a failure, unless the rule knows it reports one
                // (`uncapped`: 0.6's "checking … pods" is printed after both searches failed).
                if matches!(zap_level(&line), Some(Severity::Info))
                    && got.is_some_and(|(r, _)| !r.uncapped)
                {
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

#[test]
fn spans_cover_each_rule_once_in_order() {
    let line = "upgrade-executor error: raft configuration request failed with status 403: permission denied";
    let spans = builtin().spans(line);
    let texts: Vec<&str> = spans.iter().map(|s| &line[s.range.clone()]).collect();
    assert!(texts.contains(&"upgrade-executor error:"), "{texts:?}");
    assert!(texts.contains(&"permission denied"), "{texts:?}");
    assert!(spans.windows(2).all(|w| w[0].range.end <= w[1].range.start));
    assert!(builtin().spans("nothing here").is_empty());
}

fn write(dir: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
    let p = dir.path().join("patterns.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn user_rules_override_by_id_add_first_and_disable() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        r#"
[[rule]]
id = "no-leader"
regex = 'no leader anywhere'
severity = "warn"
meaning = "overridden"

[[rule]]
id = "site-specific"
regex = 'vault-proxy refused'
severity = "error"
meaning = "our proxy"
path = "retry"

[[rule]]
id = "level-warn"
disabled = true
"#,
    );
    let set = RuleSet::load(Some(&file), None);
    assert!(set.problems().is_empty(), "{:?}", set.problems());
    assert_eq!(set.rules()[0].id, "site-specific");
    let r = set.first_match("no leader anywhere").unwrap();
    assert_eq!(
        (r.id.as_str(), r.meaning.as_str()),
        ("no-leader", "overridden")
    );
    assert!(set.first_match("2026\tWARN\tx").is_none());
    assert_eq!(set.rules().len(), builtin().rules().len());
}

#[test]
fn an_invalid_rule_names_file_line_and_rule_and_the_rest_load() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "[[rule]]\nid = \"good\"\nregex = 'fine'\nseverity = \"info\"\nmeaning = \"m\"\n\n\
         [[rule]]\nid = \"bad-regex\"\nregex = 'unclosed('\nseverity = \"error\"\nmeaning = \"m\"\n\n\
         [[rule]]\nid = \"bad-sev\"\nregex = 'x'\nseverity = \"fatal\"\nmeaning = \"m\"\n",
    );
    let set = RuleSet::load(Some(&file), None);
    let problems: Vec<String> = set.problems().iter().map(ToString::to_string).collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    let label = file.display().to_string();
    assert!(
        problems[0].starts_with(&format!(
            "{label}:7: rule \"bad-regex\": regex does not compile"
        )),
        "{}",
        problems[0]
    );
    assert!(
        problems[1].starts_with(&format!("{label}:13: rule \"bad-sev\": severity")),
        "{}",
        problems[1]
    );
    assert!(set.first_match("fine").is_some_and(|r| r.id == "good"));
    assert!(set.first_match("raft log index mismatch").is_some());
}

#[test]
fn one_file_alone_holds_its_own_rules_and_problems() {
    let set = RuleSet::from_text(
        "[[rule]]\nid = \"ours\"\nregex = 'vault-proxy refused'\nseverity = \"error\"\nmeaning = \"m\"\n\n\
         [[rule]]\nid = \"no-leader\"\ndisabled = true\n\n\
         [[rule]]\nid = \"bad\"\nregex = '('\nseverity = \"info\"\nmeaning = \"m\"\n",
        "mine.toml",
    );
    let ids: Vec<&str> = set.rules().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["ours"]);
    let problems: Vec<String> = set.problems().iter().map(ToString::to_string).collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("mine.toml:11: rule \"bad\""),
        "{problems:?}"
    );
    assert!(
        set.first_match("no leader anywhere").is_none(),
        "no built-ins under it"
    );
    assert!(RuleSet::from_text("not toml [", "x").rules().is_empty());
}

#[test]
fn a_broken_or_missing_file_is_a_problem_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "[[rule]\nid = ");
    let set = RuleSet::load(Some(&file), None);
    assert_eq!(set.problems().len(), 1);
    assert!(set.problems()[0].line >= 1, "{}", set.problems()[0]);
    assert_eq!(set.rules().len(), builtin().rules().len());
    let missing = dir.path().join("nope.toml");
    let set = RuleSet::load(Some(&missing), Some(dir.path().join("also-nope.toml")));
    assert_eq!(
        set.problems().len(),
        1,
        "only the explicit file is required"
    );
}

/// The one-scan path gives what classifying the raw line and scanning the sanitised one
/// give: lines where a tab became the space a rule needs, where a rule needs the tab, and
/// where sanitising did more than expand tabs.
#[test]
fn one_scan_classification_and_spans_agree_with_two_scans() {
    let user = "[[rule]]\nid = \"spaced\"\nregex = 'denied status'\nseverity = \"warn\"\nmeaning = \"m\"\n\n[[rule]]\nid = \"anchored\"\nregex = '^\\S+\\s+ERROR\\b'\nseverity = \"info\"\nmeaning = \"m\"\n";
    let dir = tempfile::tempdir().unwrap();
    let set = RuleSet::load(Some(&write(&dir, user)), None);
    assert!(set.problems().is_empty(), "{:?}", set.problems());
    let mut lines = vec![
        zap(
            "ERROR",
            "Failed to demote Blue peer",
            &[("error", "status 403")],
        ),
        zap("WARN", "nothing known", &[]),
        zap("INFO", "no leader found", &[]),
        "x\tpermission\tdenied\tstatus 403".to_string(),
        "abcd denied\tstatus".to_string(),
        "abcd denied\tstatus 403".to_string(),
        "abcdefg denied\tstatus 403".to_string(),
        "a\tERROR\tfailed to remove Raft peer \"p\tq\"".to_string(),
        "ts\tERROR\tpermission denied\r".to_string(),
        "ts\tERROR\t\u{1b}[31mpermission denied\u{1b}[0m".to_string(),
        "\tpermission denied".to_string(),
        "upgrade-executor error: no leader found".to_string(),
        "plain words".to_string(),
    ];
    lines.push(format!(
        "{}\tstatus 403",
        "y".repeat(sanitize::MAX_LINE_CHARS)
    ));
    for line in &lines {
        let text = sanitize::sanitize(line);
        for prefilter in [true, false] {
            let (got, spans) = set.classify_and_spans(line, &text, prefilter);
            let want = set.classify(line);
            assert_eq!(
                got.map(|(r, s)| (&r.id, s)),
                want.map(|(r, s)| (&r.id, s)),
                "{line:?}"
            );
            let want_spans = match want {
                Some(_) => set.spans(&text),
                None => Vec::new(),
            };
            assert_eq!(spans, want_spans, "{line:?}");
        }
    }
}
