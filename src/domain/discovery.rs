//! Finding the incident: the OpenBaoClusters of a namespace (or of all), one row each, and
//! which one the console opens when no CLUSTER was named.
//!
//! At 3 a.m. the engineer knows "the OpenBao upgrade in prod broke", not the cluster's name:
//! exactly one cluster in break glass is opened directly, several (or none in break glass
//! among several clusters) go to a picker, none at all is said with the namespaces searched.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::cluster::ClusterView;

/// Where the clusters were looked for (kubectl's rules: `-n`, else the context's namespace;
/// `-A` every namespace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Namespace(String),
    All,
}

impl Scope {
    /// For messages: `namespace "security"` or `all namespaces`.
    pub fn describe(&self) -> String {
        match self {
            Scope::Namespace(ns) => format!("namespace {ns:?}"),
            Scope::All => "all namespaces".into(),
        }
    }
}

/// One OpenBaoCluster as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClusterRow {
    pub namespace: String,
    pub name: String,
    pub phase: Option<String>,
    pub blue_green_phase: Option<String>,
    /// Present while break glass is active.
    pub break_glass: Option<BreakGlassRow>,
    pub rollback_attempt: i32,
    /// The object did not parse: the row still shows, with why.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BreakGlassRow {
    pub reason: Option<String>,
    pub entered_at: Option<Timestamp>,
}

impl ClusterRow {
    pub(crate) fn from_view(view: &ClusterView) -> Self {
        let bg = view.blue_green.as_ref();
        ClusterRow {
            namespace: view.namespace.clone(),
            name: view.name.clone(),
            phase: view.phase.clone(),
            blue_green_phase: bg.and_then(|b| b.phase.clone()),
            break_glass: view
                .break_glass
                .as_ref()
                .filter(|b| b.active)
                .map(|b| BreakGlassRow {
                    reason: b.reason.clone(),
                    entered_at: b.entered_at,
                }),
            rollback_attempt: bg.map_or(0, |b| b.rollback_attempt),
            problem: None,
        }
    }

    /// A row for an object that does not parse (shown, never dropped).
    pub(crate) fn unparseable(namespace: &str, name: &str, detail: String) -> Self {
        ClusterRow {
            namespace: namespace.into(),
            name: name.into(),
            problem: Some(detail),
            ..Default::default()
        }
    }

    pub(crate) fn in_break_glass(&self) -> bool {
        self.break_glass.is_some()
    }

    /// Seconds since break glass was entered, when known.
    pub(crate) fn break_glass_age(&self, now: Timestamp) -> Option<i64> {
        let at = self.break_glass.as_ref()?.entered_at?;
        Some((now.as_second() - at.as_second()).max(0))
    }

    pub(crate) fn to_json(&self, now: Timestamp) -> Value {
        json!({
            "namespace": self.namespace,
            "name": self.name,
            "phase": self.phase,
            "blueGreenPhase": self.blue_green_phase,
            "breakGlass": self.break_glass.as_ref().map(|b| json!({
                "reason": b.reason,
                "enteredAt": b.entered_at.map(|t| t.to_string()),
                "ageSeconds": self.break_glass_age(now),
            })),
            "rollbackAttempt": self.rollback_attempt,
            "problem": self.problem,
        })
    }
}

/// Break-glass clusters first (oldest break glass first: the longest wait), then by
/// namespace and name, so the list reads the same every time.
pub(crate) fn sort_rows(rows: &mut [ClusterRow]) {
    rows.sort_by(|a, b| {
        let key = |r: &ClusterRow| {
            (
                !r.in_break_glass(),
                r.break_glass
                    .as_ref()
                    .and_then(|b| b.entered_at)
                    .map(|t| t.as_second()),
            )
        };
        key(a)
            .cmp(&key(b))
            .then_with(|| a.namespace.cmp(&b.namespace))
            .then_with(|| a.name.cmp(&b.name))
    });
}

/// What the console does when started without a CLUSTER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// Open this one; `why` goes to the header.
    Open {
        namespace: String,
        name: String,
        why: String,
    },
    /// Let the user pick (rows sorted, break glass first).
    Pick(Vec<ClusterRow>),
    /// Nothing to open.
    NoneFound { searched: String },
}

pub fn choose(mut rows: Vec<ClusterRow>, scope: &Scope) -> Choice {
    sort_rows(&mut rows);
    let in_break_glass = rows.iter().filter(|r| r.in_break_glass()).count();
    match (rows.len(), in_break_glass) {
        (0, _) => Choice::NoneFound {
            searched: scope.describe(),
        },
        (n, 1) => {
            let r = &rows[0];
            Choice::Open {
                namespace: r.namespace.clone(),
                name: r.name.clone(),
                why: format!(
                    "opened: the only one in break glass of {n} in {}",
                    scope.describe()
                ),
            }
        }
        (1, 0) if rows[0].problem.is_none() => {
            let r = &rows[0];
            Choice::Open {
                namespace: r.namespace.clone(),
                name: r.name.clone(),
                why: format!("opened: the only OpenBaoCluster in {}", scope.describe()),
            }
        }
        _ => Choice::Pick(rows),
    }
}

/// The clusters of the watched scope other than the open one (`namespace/name`) that are in
/// break glass, the longest wait first: what the header announces while the console is
/// open on one incident.
pub fn others_in_break_glass(
    mut rows: Vec<ClusterRow>,
    namespace: &str,
    name: &str,
) -> Vec<ClusterRow> {
    rows.retain(|r| r.in_break_glass() && !(r.namespace == namespace && r.name == name));
    sort_rows(&mut rows);
    rows
}

/// Test rows: `security/prod` in break glass since 03:00 (12 min before [`SAMPLE_NOW`]),
/// then `team-b/vault` running.
#[cfg(test)]
pub(crate) fn sample_rows() -> Vec<ClusterRow> {
    vec![
        ClusterRow {
            namespace: "security".into(),
            name: "prod".into(),
            phase: Some("Upgrading".into()),
            blue_green_phase: Some("RollingBack".into()),
            break_glass: Some(BreakGlassRow {
                reason: Some("RollbackConsensusRepairFailed".into()),
                entered_at: "2026-12-04T03:00:00Z".parse().ok(),
            }),
            rollback_attempt: 1,
            problem: None,
        },
        ClusterRow {
            namespace: "team-b".into(),
            name: "vault".into(),
            phase: Some("Running".into()),
            ..Default::default()
        },
    ]
}

#[cfg(test)]
pub(crate) const SAMPLE_NOW: &str = "2026-12-04T03:12:00Z";

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ns: &str, name: &str, bg_at: Option<&str>) -> ClusterRow {
        ClusterRow {
            namespace: ns.into(),
            name: name.into(),
            break_glass: bg_at.map(|t| BreakGlassRow {
                reason: Some("RollbackConsensusRepairFailed".into()),
                entered_at: Some(t.parse().unwrap()),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn the_others_in_break_glass_leave_out_the_open_cluster_and_calm_ones() {
        let rows = vec![
            row("a", "calm", None),
            row("security", "prod", Some("2026-12-04T03:00:00Z")),
            row("team-c", "newer", Some("2026-12-04T03:10:00Z")),
            // Same name as the open one in another namespace: another cluster.
            row("team-c", "prod", Some("2026-12-04T03:05:00Z")),
        ];
        let others = others_in_break_glass(rows, "security", "prod");
        let names: Vec<_> = others
            .iter()
            .map(|r| format!("{}/{}", r.namespace, r.name))
            .collect();
        assert_eq!(names, ["team-c/prod", "team-c/newer"]);
    }

    #[test]
    fn exactly_one_in_break_glass_is_opened_and_the_header_says_why() {
        let rows = vec![
            row("a", "calm", None),
            row("b", "broken", Some("2026-12-04T03:00:00Z")),
        ];
        let c = choose(rows, &Scope::All);
        assert_eq!(
            c,
            Choice::Open {
                namespace: "b".into(),
                name: "broken".into(),
                why: "opened: the only one in break glass of 2 in all namespaces".into()
            }
        );
    }

    #[test]
    fn several_in_break_glass_go_to_the_picker_longest_waiting_first() {
        let rows = vec![
            row("a", "calm", None),
            row("b", "newer", Some("2026-12-04T03:10:00Z")),
            row("b", "older", Some("2026-12-04T03:00:00Z")),
        ];
        let Choice::Pick(rows) = choose(rows, &Scope::Namespace("b".into())) else {
            panic!("expected a picker");
        };
        let names: Vec<_> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["older", "newer", "calm"]);
    }

    #[test]
    fn none_names_the_namespaces_searched_and_one_calm_cluster_is_opened() {
        assert_eq!(
            choose(vec![], &Scope::Namespace("security".into())),
            Choice::NoneFound {
                searched: "namespace \"security\"".into()
            }
        );
        let c = choose(vec![row("a", "calm", None)], &Scope::All);
        assert!(matches!(c, Choice::Open { name, .. } if name == "calm"));
        // Several calm clusters, or one that does not parse: the user decides.
        let c = choose(vec![row("a", "x", None), row("a", "y", None)], &Scope::All);
        assert!(matches!(c, Choice::Pick(r) if r.len() == 2));
        let bad = ClusterRow::unparseable("a", "x", "spec: invalid type".into());
        assert!(matches!(choose(vec![bad], &Scope::All), Choice::Pick(_)));
    }

    #[test]
    fn a_row_keeps_reason_age_and_attempt() {
        let obj = serde_json::json!({
            "apiVersion": "openbao.org/v1alpha1", "kind": "OpenBaoCluster",
            "metadata": {"name": "prod", "namespace": "security", "resourceVersion": "7"},
            "spec": {"version": "2.4.0", "image": "x", "replicas": 3},
            "status": {"phase": "Upgrading",
                "breakGlass": {"active": true, "reason": "RollbackCleanupPeerRemovalFailed",
                    "nonce": "n", "enteredAt": "2026-12-04T03:00:00Z"},
                "blueGreen": {"phase": "RollbackCleanup", "rollbackAttempt": 2}}
        });
        let view = ClusterView::from_json(&obj).unwrap();
        let r = ClusterRow::from_view(&view);
        assert_eq!(r.blue_green_phase.as_deref(), Some("RollbackCleanup"));
        assert_eq!(r.rollback_attempt, 2);
        let now: Timestamp = "2026-12-04T03:12:00Z".parse().unwrap();
        assert_eq!(r.break_glass_age(now), Some(720));
        let j = r.to_json(now);
        assert_eq!(
            j["breakGlass"]["reason"],
            "RollbackCleanupPeerRemovalFailed"
        );
        assert_eq!(j["breakGlass"]["ageSeconds"], 720);
    }
}
