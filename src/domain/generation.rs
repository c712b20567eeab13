//! Which operator line the console is talking to, from cheap signals, with the evidence.
//!
//! Two lines behave differently where it matters in break glass (README "Operator
//! generations"): the 0.1 line (dc-tec/openbao-operator @ 002fbdd) and the line from dc-tec
//! 0.5.1 on, kubebao 0.6 included ("0.6": `bg-v2-` operation IDs, two break-glass reasons).
//! Between them, 0.2–0.5.0 has the second reason but unscoped run IDs.
//!
//! The signals, cheapest and most reliable first:
//! - the OpenBaoCluster CRD's schema: the `status.breakGlass.reason` enum, whether
//!   `status.blueGreen.operationID` exists, the `RestoringReadReplicas` phase;
//! - the live `status.blueGreen.operationID`: `bg-v2-` (job_helpers.go
//!   `executorOperationIDPrefix`) means the run IDs are scoped;
//! - the operator Deployment's image (`ghcr.io/dc-tec/…` up to 0.5.x, `ghcr.io/kubebao/…` from
//!   0.6): display only, mirrors rewrite it.
//!
//! Behaviour follows the signals themselves (a run ID is scoped iff the operation ID starts
//! with `bg-v2-`); the label only names them. Contradicting or missing signals give
//! `Unknown`, which says why — never a silent guess.

use serde_json::Value;

use super::cluster::REASON_ROLLBACK_CLEANUP_PEER_REMOVAL_FAILED;
use super::naming::SCOPED_OPERATION_PREFIX;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Line {
    /// dc-tec/openbao-operator @ 002fbdd and its 0.1 releases: one break-glass reason.
    V01,
    /// 0.2 … 0.5.0: both reasons, no operation-scoped run IDs.
    V02To050,
    /// dc-tec 0.5.1 and kubebao 0.6: both reasons, `bg-v2-` operation-scoped run IDs.
    V06,
    Unknown,
}

impl Line {
    /// The label of `status --output json` (`operator.generation`).
    pub fn label(self) -> &'static str {
        match self {
            Line::V01 => "0.1",
            Line::V02To050 => "0.2-0.5.0",
            Line::V06 => "0.6",
            Line::Unknown => "unknown",
        }
    }

    /// The header's text.
    pub fn header(self) -> &'static str {
        match self {
            Line::V01 => "operator 0.1 (002fbdd)",
            Line::V02To050 => "operator 0.2-0.5.0",
            Line::V06 => "operator 0.6",
            Line::Unknown => "operator: unknown",
        }
    }
}

/// What the CRD read gave.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum CrdSignal {
    /// The `customresourcedefinitions/openbaoclusters.openbao.org` object.
    Read(Value),
    /// Why it could not be read (RBAC, network, not installed).
    Unreadable(String),
    /// Not read yet.
    #[default]
    Pending,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    pub line: Line,
    /// One line per signal, in the order read: what was seen and what it means.
    pub evidence: Vec<String>,
}

impl Default for Generation {
    fn default() -> Self {
        Generation {
            line: Line::Unknown,
            evidence: vec!["no signal read yet".into()],
        }
    }
}

/// What the CRD schema says about the line, when it can be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CrdFacts {
    cleanup_reason: bool,
    operation_id: bool,
    restoring_read_replicas: bool,
}

fn crd_facts(crd: &Value) -> Option<CrdFacts> {
    let versions = crd.pointer("/spec/versions")?.as_array()?;
    let version = versions
        .iter()
        .find(|v| v["storage"] == true)
        .or_else(|| versions.first())?;
    let status = version.pointer("/schema/openAPIV3Schema/properties/status/properties")?;
    let reasons = status
        .pointer("/breakGlass/properties/reason/enum")?
        .as_array()?;
    let blue_green = status.pointer("/blueGreen/properties")?;
    let phases = blue_green.pointer("/phase/enum").and_then(Value::as_array);
    Some(CrdFacts {
        cleanup_reason: reasons
            .iter()
            .any(|r| r == REASON_ROLLBACK_CLEANUP_PEER_REMOVAL_FAILED),
        operation_id: blue_green.get("operationID").is_some(),
        restoring_read_replicas: phases
            .is_some_and(|p| p.iter().any(|x| x == "RestoringReadReplicas")),
    })
}

/// The line the CRD schema alone points at.
fn crd_line(f: CrdFacts) -> Line {
    match (f.cleanup_reason, f.operation_id, f.restoring_read_replicas) {
        (false, false, false) => Line::V01,
        (true, true, true) => Line::V06,
        (true, _, _) => Line::V02To050,
        _ => Line::Unknown,
    }
}

/// Detect the line from the signals read so far.
pub fn detect(crd: &CrdSignal, operation_id: Option<&str>, image: Option<&str>) -> Generation {
    let mut evidence = Vec::new();
    let from_crd = match crd {
        CrdSignal::Read(obj) => match crd_facts(obj) {
            Some(f) => {
                evidence.push(format!(
                    "CRD openbaoclusters.openbao.org: breakGlass.reason {} RollbackCleanupPeerRemovalFailed, \
                     blueGreen.operationID {}, phase RestoringReadReplicas {}",
                    if f.cleanup_reason { "has" } else { "lacks" },
                    if f.operation_id { "present" } else { "absent" },
                    if f.restoring_read_replicas { "present" } else { "absent" },
                ));
                Some(crd_line(f))
            }
            None => {
                evidence.push(
                    "CRD openbaoclusters.openbao.org: no breakGlass.reason enum in its schema"
                        .into(),
                );
                None
            }
        },
        CrdSignal::Unreadable(why) => {
            evidence.push(format!("CRD openbaoclusters.openbao.org unreadable: {why}"));
            None
        }
        CrdSignal::Pending => None,
    };
    let scoped = operation_id.map(|id| id.starts_with(SCOPED_OPERATION_PREFIX));
    match operation_id {
        Some(id) if scoped == Some(true) => evidence.push(format!(
            "status.blueGreen.operationID {id}: bg-v2- prefix, run IDs are operation-scoped"
        )),
        Some(id) => evidence.push(format!(
            "status.blueGreen.operationID {id}: no bg-v2- prefix, run IDs unscoped"
        )),
        None => {}
    }
    let kubebao = image.map(|i| i.contains("ghcr.io/kubebao/"));
    if let Some(image) = image {
        evidence.push(format!("operator image {image} (a hint: mirrors rename)"));
    }
    let line = match (from_crd, scoped) {
        // A bg-v2- operation can only have been started by a 0.5.1+ operator.
        (Some(Line::V06) | None, Some(true)) => Line::V06,
        (Some(l), Some(true)) => {
            evidence.push(format!(
                "conflict: a bg-v2- operation ID with a {} CRD schema",
                l.label()
            ));
            Line::Unknown
        }
        // A plain operation ID on a 0.6 CRD is an operation started by an older operator
        // (job_helpers.go keeps its names until it completes): the CRD names the line.
        (Some(l), _) if l != Line::V01 || scoped.is_none() => l,
        (Some(Line::V01), Some(false)) => {
            evidence.push("conflict: an operation ID with a 0.1 CRD schema (0.1 has none)".into());
            Line::Unknown
        }
        (Some(l), _) => l,
        (None, _) if kubebao == Some(true) => Line::V06,
        (None, _) => Line::Unknown,
    };
    if line == Line::Unknown && evidence.is_empty() {
        evidence.push("no signal read yet".into());
    }
    Generation { line, evidence }
}

/// The operator Deployment's image as read (display only: mirrors rewrite it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ImageSignal {
    /// Not read yet.
    #[default]
    Pending,
    /// The controller Deployment found by its labels: `namespace/name` and the image.
    Found { deployment: String, image: String },
    /// No Deployment with the controller's labels in any namespace the user may list.
    NotFound,
    /// The list was refused or failed (RBAC, network): no image, and why.
    Unreadable(String),
}

/// Everything read about the operator's line besides the cluster itself. The CRD is shared
/// (`Arc`): the incident snapshot is cloned on every change and the schema is large.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Signals {
    pub crd: std::sync::Arc<CrdSignal>,
    pub image: ImageSignal,
}

impl Signals {
    /// [`detect`] with these signals and the live operation ID; the evidence also says what
    /// became of the Deployment read when it gave no image.
    pub fn detect(&self, operation_id: Option<&str>) -> Generation {
        let image = match &self.image {
            ImageSignal::Found { image, .. } => Some(image.as_str()),
            _ => None,
        };
        let mut g = detect(&self.crd, operation_id, image);
        let note = match &self.image {
            ImageSignal::Pending => None,
            ImageSignal::Found { deployment, .. } => {
                Some(format!("operator Deployment {deployment}"))
            }
            ImageSignal::NotFound => Some(
                "operator Deployment: none with app.kubernetes.io/name=openbao-operator,\
                 app.kubernetes.io/component=controller where you may list"
                    .to_string(),
            ),
            ImageSignal::Unreadable(why) => {
                Some(format!("operator Deployment unreadable: {why} (no image)"))
            }
        };
        if let Some(note) = note {
            if g.evidence == ["no signal read yet"] {
                g.evidence.clear();
            }
            g.evidence.push(note);
        }
        g
    }
}

impl Generation {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd(reasons: &[&str], operation_id: bool, rrr: bool) -> CrdSignal {
        let mut phases = vec!["Idle", "Cleanup", "RollingBack", "RollbackCleanup"];
        if rrr {
            phases.push("RestoringReadReplicas");
        }
        let mut bg = json!({"phase": {"type": "string", "enum": phases}});
        if operation_id {
            bg["operationID"] = json!({"type": "string"});
        }
        CrdSignal::Read(
            json!({"spec": {"versions": [{"name": "v1alpha1", "storage": true,
            "schema": {"openAPIV3Schema": {"properties": {"status": {"properties": {
                "breakGlass": {"properties": {"reason": {"type": "string", "enum": reasons}}},
                "blueGreen": {"properties": bg}}}}}}}]}}),
        )
    }

    const ONE: &[&str] = &["RollbackConsensusRepairFailed"];
    const TWO: &[&str] = &[
        "RollbackConsensusRepairFailed",
        "RollbackCleanupPeerRemovalFailed",
    ];

    #[test]
    fn the_crd_schema_names_the_line() {
        assert_eq!(detect(&crd(ONE, false, false), None, None).line, Line::V01);
        assert_eq!(
            detect(&crd(TWO, false, false), None, None).line,
            Line::V02To050
        );
        assert_eq!(
            detect(&crd(TWO, true, false), Some("3f1c-plain"), None).line,
            Line::V02To050
        );
        assert_eq!(detect(&crd(TWO, true, true), None, None).line, Line::V06);
    }

    #[test]
    fn a_legacy_operation_on_a_new_crd_keeps_the_crd_line() {
        let g = detect(&crd(TWO, true, true), Some("3f1c2a9e-plain"), None);
        assert_eq!(g.line, Line::V06);
        assert!(g.evidence.iter().any(|e| e.contains("unscoped")), "{g:?}");
    }

    #[test]
    fn a_bg_v2_operation_is_the_06_line_even_without_the_crd() {
        let unreadable = CrdSignal::Unreadable("403 Forbidden".into());
        let g = detect(&unreadable, Some("bg-v2-abc"), None);
        assert_eq!(g.line, Line::V06);
        assert!(g.evidence[0].contains("403"), "{g:?}");
    }

    #[test]
    fn contradicting_signals_are_unknown_and_say_so() {
        let g = detect(&crd(ONE, false, false), Some("bg-v2-abc"), None);
        assert_eq!(g.line, Line::Unknown);
        assert!(
            g.evidence.iter().any(|e| e.starts_with("conflict")),
            "{g:?}"
        );
        let g = detect(&crd(ONE, false, false), Some("plain-uuid"), None);
        assert_eq!(g.line, Line::Unknown);
    }

    #[test]
    fn malformed_or_missing_signals_are_unknown() {
        let g = detect(&CrdSignal::Read(json!({"spec": "nonsense"})), None, None);
        assert_eq!(g.line, Line::Unknown);
        assert!(g.evidence[0].contains("no breakGlass.reason enum"), "{g:?}");
        let g = detect(&CrdSignal::Pending, None, None);
        assert_eq!(g.line, Line::Unknown);
        assert_eq!(g.evidence, vec!["no signal read yet".to_string()]);
        let g = detect(
            &CrdSignal::Pending,
            None,
            Some("ghcr.io/dc-tec/openbao-operator:0.5.1"),
        );
        assert_eq!(g.line, Line::Unknown, "a dc-tec image alone names no line");
    }

    #[test]
    fn a_kubebao_image_alone_is_a_06_hint() {
        let g = detect(
            &CrdSignal::Unreadable("forbidden".into()),
            None,
            Some("ghcr.io/kubebao/openbao-operator:0.6.0"),
        );
        assert_eq!(g.line, Line::V06);
    }

    #[test]
    fn signals_say_what_became_of_the_deployment_read() {
        let s = Signals {
            crd: std::sync::Arc::new(CrdSignal::Unreadable("403 Forbidden".into())),
            image: ImageSignal::Unreadable("RBAC denied (403)".into()),
        };
        let g = s.detect(Some("bg-v2-x"));
        assert_eq!(g.line, Line::V06);
        assert!(g.evidence.iter().any(|e| e.contains("no image")), "{g:?}");
        let s = Signals {
            crd: std::sync::Arc::new(CrdSignal::Pending),
            image: ImageSignal::Found {
                deployment: "openbao-operator-system/openbao-operator-controller".into(),
                image: "ghcr.io/kubebao/openbao-operator:0.6.0".into(),
            },
        };
        let g = s.detect(None);
        assert_eq!(g.line, Line::V06);
        assert!(g.evidence.iter().any(|e| e.contains("controller")), "{g:?}");
        let g = Signals::default().detect(None);
        assert_eq!(g, Generation::default());
        let g = Signals {
            image: ImageSignal::NotFound,
            ..Signals::default()
        }
        .detect(None);
        assert_eq!(g.line, Line::Unknown);
        assert_eq!(g.evidence.len(), 1, "{g:?}");
    }

    #[test]
    fn the_shipped_crds_detect_as_their_line() {
        let parse = |text: &str| {
            let v: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
            CrdSignal::Read(serde_json::to_value(v).unwrap())
        };
        let old = parse(include_str!(
            "../../assets/crds/openbao.org_openbaoclusters.yaml"
        ));
        assert_eq!(detect(&old, None, None).line, Line::V01);
        let new = parse(include_str!(
            "../../assets/crds/0.6/openbao.org_openbaoclusters.yaml"
        ));
        assert_eq!(detect(&new, None, None).line, Line::V06);
    }
}
