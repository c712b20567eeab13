//! The log follower's pure parts: resume points, gaps, evidence files, attempt order.

use super::*;
use crate::domain::JobState;

#[test]
fn resuming_neither_loses_nor_duplicates() {
    let mut r = ResumePoint::default();
    let first = [
        "2026-11-23T10:00:01.100000000Z a",
        "2026-11-23T10:00:01.200000000Z b",
        "2026-11-23T10:00:01.200000000Z c",
    ];
    let got: Vec<_> = first.iter().filter_map(|l| r.accept(l)).collect();
    assert_eq!(got, ["a", "b", "c"]);
    assert_eq!(r.since().unwrap().to_string(), "2026-11-23T10:00:01Z");
    // The resumed stream starts at the second: everything again, then new lines.
    let again = [
        "2026-11-23T10:00:01.100000000Z a",
        "2026-11-23T10:00:01.200000000Z b",
        "2026-11-23T10:00:01.200000000Z c",
        "2026-11-23T10:00:01.200000000Z d",
        "2026-11-23T10:00:02.000000000Z e",
    ];
    let got: Vec<_> = again.iter().filter_map(|l| r.accept(l)).collect();
    assert_eq!(got, ["d", "e"]);
}

#[test]
fn a_resumed_stream_that_starts_after_the_last_line_is_a_gap() {
    let mut r = ResumePoint::default();
    r.restart();
    assert_eq!(
        r.accept("2026-11-23T10:00:01.100000000Z a").as_deref(),
        Some("a")
    );
    assert_eq!(
        r.take_gap(),
        None,
        "the first stream has nothing to compare with"
    );
    // Resumed from 10:00:01 but the server starts at 10:00:03: `a` and whatever
    // followed it are gone.
    r.restart();
    assert_eq!(
        r.accept("2026-11-23T10:00:03.000000000Z d").as_deref(),
        Some("d")
    );
    let (seen, after) = r.take_gap().unwrap();
    assert_eq!(seen.to_string(), "2026-11-23T10:00:01.1Z");
    assert_eq!(after.to_string(), "2026-11-23T10:00:03Z");
    // A resumed stream that repeats the overlap is not a gap.
    r.restart();
    assert_eq!(r.accept("2026-11-23T10:00:03.000000000Z d"), None);
    assert_eq!(
        r.accept("2026-11-23T10:00:04.000000000Z e").as_deref(),
        Some("e")
    );
    assert_eq!(r.take_gap(), None);
}

#[test]
fn evidence_files_append_and_report_a_failure_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = EvidenceFile::new(Some(dir.path()), "job-a");
    assert_eq!(f.append(&["one".into()]), None);
    assert_eq!(f.append(&["two".into()]), None);
    let text = std::fs::read_to_string(dir.path().join("job-a.log")).unwrap();
    assert_eq!(text, "one\ntwo\n");
    let mut bad = EvidenceFile::new(Some(&dir.path().join("missing")), "j");
    assert!(bad.append(&["x".into()]).unwrap().contains("NOT saved"));
    assert_eq!(bad.append(&["x".into()]), None, "reported once");
    let ts: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
    let made = incident_dir_in(dir.path(), "security", "prod-cluster", ts).unwrap();
    assert!(made.ends_with("breakglass/security-prod-cluster-2026-11-23"));
    assert!(made.is_dir());
}

#[test]
fn attempts_are_followed_oldest_first() {
    let job = |name: &str, run: &str| JobView {
        name: name.into(),
        action: Some("bluegreen-repair-consensus".into()),
        run_id: Some(run.into()),
        state: JobState::Failed,
        created: None,
    };
    let cleanup = |name: &str, run: &str| JobView {
        action: Some("bluegreen-remove-green-peers".into()),
        ..job(name, run)
    };
    let forward = JobView {
        action: Some("bluegreen-remove-blue-peers".into()),
        ..job("fwd", "bg-v2-x/retry-1")
    };
    let jobs = vec![
        job("j1", "bg-v2-x/rollback-retry-1"),
        cleanup("c0", "bg-v2-x/rollback"),
        forward,
        job("j0", "bg-v2-x/rollback"),
    ];
    let mut done = HashSet::new();
    for want in ["j0", "c0", "j1"] {
        let next = next_attempt(&jobs, &done).unwrap().name;
        assert_eq!(next, want);
        done.insert(next);
    }
    assert!(next_attempt(&jobs, &done).is_none());
}
