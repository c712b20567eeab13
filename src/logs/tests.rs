use super::*;

#[test]
fn the_store_is_bounded_and_counts_what_it_dropped() {
    let mut st = LineStore::new(3);
    for i in 0..5 {
        st.push_line(&format!("line {i}"));
    }
    assert_eq!(st.len(), 3);
    assert_eq!(st.dropped(), 2);
    assert_eq!(st.first_seq(), 2);
    assert_eq!(st.end_seq(), 5);
    let got: Vec<(u64, Box<str>)> = st.range(0, 10).map(|(s, l)| (s, l.text.clone())).collect();
    assert_eq!(
        got,
        [
            (2, "line 2".into()),
            (3, "line 3".into()),
            (4, "line 4".into())
        ]
    );
    assert_eq!(st.range(4, 10).count(), 1);
    assert_eq!(st.range(9, 10).count(), 0);
}

#[test]
fn find_jumps_between_matching_lines_both_ways() {
    let mut st = LineStore::new(5);
    for l in [
        "x",
        "ERR status 403",
        "y",
        "z",
        "status 403 again",
        "w",
        "v",
    ] {
        st.push_line(l);
    }
    // Capacity 5: seqs 2..=6 are stored ("y" .. "v"); the first 403 line was dropped.
    let err = Severity::Error;
    assert_eq!(st.find(2, true, err), Some(4));
    assert_eq!(st.find(4, true, err), None);
    assert_eq!(st.find(6, false, err), Some(4));
    assert_eq!(st.find(4, false, err), None);
    assert_eq!(st.find(0, true, err), Some(4));
}

#[test]
fn lines_are_matched_on_insert_on_the_raw_text() {
    let mut st = LineStore::default();
    st.push_line("2026-11-23T10:00:01.000Z\tERROR\tupgrade-executor error: status 403");
    st.push_marker("── attempt 0 ──");
    let lines: Vec<_> = st.range(0, 2).collect();
    assert_eq!(
        lines[0].1.rule().map(|r| r.id.as_str()),
        Some("permission-denied")
    );
    assert!(lines[1].1.rule().is_none());
    assert_eq!(
        st.last_match().map(|(seq, r, _)| (seq, r.id.as_str())),
        Some((0, "permission-denied"))
    );
}

#[test]
fn every_match_becomes_evidence_with_time_and_attempt() {
    let mut st = LineStore::new(2);
    st.begin_attempt(Some(0), "── attempt 0 ──");
    st.push_line("2026-11-23T19:35:21.723Z\tINFO\tUpgrade executor starting\t{}");
    st.push_line("upgrade-executor error: failed to find leader: no leader found among 3 pods");
    st.begin_attempt(Some(1), "── attempt 1 ──");
    st.push_line("2026-11-23T19:40:00.000Z\tERROR\tx\t{\"error\": \"raft configuration request failed with status 403: permission denied\"}");
    let ev: Vec<_> = st
        .evidence()
        .map(|e| (e.rule.id.as_str(), e.attempt, e.time.clone(), e.seq))
        .collect();
    assert_eq!(
        ev,
        [
            ("no-leader", Some(0), None, 2),
            (
                "raft-config-forbidden",
                Some(1),
                Some("2026-11-23T19:40:00.000Z".to_string()),
                4
            ),
        ]
    );
    assert_eq!(st.len(), 2, "lines are bounded, evidence outlives them");
    assert_eq!(st.evidence_for("no-leader").count(), 1);
    assert!(st.evidence().all(|e| !e.line.contains('\t')));
}

#[test]
fn secrets_never_reach_the_store_or_the_evidence() {
    let mut st = LineStore::default();
    st.push_line("upgrade-executor error: JWT auth request failed with status 400: token hvs.CAESIJlWh0sM3p1k3Pq2uYQkq0i8xqT5n7vQw1y");
    let (_, l) = st.range(0, 1).next().unwrap();
    assert!(!l.text.contains("hvs.CAES"), "{}", l.text);
    assert!(l.text.contains("[REDACTED:token]"));
    assert!(st.evidence().all(|e| !e.line.contains("hvs.CAES")));
}

#[test]
fn a_megabyte_line_is_cut_for_the_screen_and_still_classified() {
    let mut st = LineStore::default();
    let huge = format!("upgrade-executor error: {}", "x".repeat(1 << 20));
    st.push_line(&huge);
    let (_, l) = st.range(0, 1).next().unwrap();
    assert!(l.text.chars().count() <= super::sanitize::MAX_LINE_CHARS + 1);
    assert_eq!(l.rule().map(|r| r.id.as_str()), Some("executor-error"));
}

#[test]
fn evidence_is_bounded_separately_and_counts_what_it_dropped() {
    let mut st = LineStore::with_evidence_capacity(100, 3);
    for i in 0..5 {
        st.push_line(&format!(
            "upgrade-executor error: no leader found among {i} pods"
        ));
        st.push_line("nothing to see");
    }
    assert_eq!(st.evidence().count(), 3);
    assert_eq!(st.evidence_dropped(), 2);
    assert_eq!(st.dropped(), 0, "no line was dropped");
    // The oldest records went first: the kept ones are lines 2, 3 and 4 (seq 4, 6, 8).
    let seqs: Vec<u64> = st.evidence().map(|e| e.seq).collect();
    assert_eq!(seqs, [4, 6, 8]);
    // The groups still count every matched line.
    assert_eq!(st.evidence_groups().map(|(_, n)| n).sum::<u64>(), 5);
}
