//! The bench corpus generator, shared by `benches/logs.rs` and `tests/console/highlight_corpus.rs`
//! (which keeps `breakglass highlight` output byte-identical for it).

use breakglass::sim::executor_log::{ExecutorFields, entry, error_line};
use breakglass::sim::scenario::{Scenario, Topology};

/// The corpus: a repair executor looping over leader searches, Raft reads, transient
/// errors and warnings with stack frames (about 1 line in 12 matches a rule).
pub fn corpus(n: usize) -> Vec<String> {
    let topo = Topology::of(&Scenario::named("transient").unwrap());
    let common = ExecutorFields::new(&topo, "bluegreen-repair-consensus");
    let t0: jiff::Timestamp = "2026-11-23T19:30:01.123Z".parse().unwrap();
    let f = |k: &str, v: &str| (k.to_string(), v.to_string());
    let mut out = Vec::with_capacity(n);
    let mut i: i64 = 0;
    while out.len() < n {
        let ts = t0 + jiff::SignedDuration::from_millis(i * 37);
        let node = format!("prod-cluster-e8983038c519c718-{}", i % 3);
        let lines = match i % 24 {
            0 => entry(ts, &common, "INFO", "Upgrade executor starting", &[]),
            1..=8 => entry(
                ts,
                &common,
                "DEBUG",
                "Blue peer already voter during consensus repair",
                &[
                    f("node_id", &node),
                    f("address", &format!("{node}.prod-cluster.security.svc:8201")),
                ],
            ),
            9..=14 => entry(
                ts,
                &common,
                "INFO",
                "Leader found for consensus repair",
                &[f(
                    "leader_url",
                    "https://prod-cluster-269c4f7ba494030d-0.prod-cluster.security.svc:8200",
                )],
            ),
            15 => entry(
                ts,
                &common,
                "INFO",
                "Failed to find leader among Blue pods for consensus repair, falling back to Green",
                &[f("error", "no leader found among 3 pods")],
            ),
            16 => entry(
                ts,
                &common,
                "WARN",
                "request failed",
                &[f(
                    "error",
                    "transient connection error: dial tcp 10.42.0.17:8200: connect: connection refused",
                )],
            ),
            17 => entry(
                ts,
                &common,
                "ERROR",
                "Failed to demote Blue peer",
                &[f(
                    "error",
                    "raft demote request failed with status 500: internal error",
                )],
            ),
            18 => vec![error_line(
                "failed to read Raft configuration for consensus repair: raft configuration request failed with status 403: {\"errors\":[\"1 error occurred:\\n\\t* permission denied\\n\\n\"]}",
            )],
            _ => entry(
                ts,
                &common,
                "INFO",
                "Promoting Blue peer to voter during consensus repair",
                &[f("node_id", &node), f("address", &format!("{node}:8201"))],
            ),
        };
        out.extend(lines);
        i += 1;
    }
    out.truncate(n);
    out
}
