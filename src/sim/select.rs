//! Query handling shared by list and watch: URL query decoding, label selectors (`=`,
//! `==`, `!=`, exists, `!key`, `in`, `notin`), field selectors (`metadata.name`,
//! `metadata.namespace`, pods' `status.phase`), and opaque continue tokens (as
//! apimachinery's `pkg/labels/selector.go` and apiserver's `pkg/storage/continue.go`).

use serde_json::{Value, json};

use super::error::ApiError;
use super::store::Resource;

/// Decoded `?a=b&c=d`, in order.
#[derive(Debug, Clone, Default)]
pub struct Query(Vec<(String, String)>);

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Query {
    pub fn parse(q: Option<&str>) -> Query {
        let pairs = q
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (percent_decode(k), percent_decode(v)),
                None => (percent_decode(p), String::new()),
            })
            .collect();
        Query(pairs)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `true`/`1` (as the API server's bool parsing accepts).
    pub(crate) fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1" | "True" | "TRUE"))
    }

    pub fn dry_run(&self) -> bool {
        self.0.iter().any(|(k, v)| k == "dryRun" && v == "All")
    }

    pub fn number(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.get(key).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
                ApiError::bad_request(format!("invalid value {v:?} for parameter {key}"))
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Req {
    Eq(String, String),
    NotEq(String, String),
    Exists(String),
    NotExists(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

/// A parsed label selector; empty matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LabelSelector(Vec<Req>);

/// Split on commas outside parentheses.
fn split_top(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    parts.push(cur);
    parts
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

fn set_values(rest: &str, whole: &str) -> Result<Vec<String>, ApiError> {
    let inner = rest
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| bad_selector(whole))?;
    Ok(inner
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect())
}

fn bad_selector(s: &str) -> ApiError {
    ApiError::bad_request(format!(
        "unable to parse requirement: invalid label selector: {s:?}"
    ))
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<LabelSelector, ApiError> {
        let mut reqs = Vec::new();
        for part in split_top(s) {
            let req = if let Some(k) = part.strip_prefix('!') {
                Req::NotExists(k.trim().to_string())
            } else if let Some((k, v)) = part.split_once("!=") {
                Req::NotEq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = part.split_once("==") {
                Req::Eq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = part.split_once('=') {
                Req::Eq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, rest)) = part.split_once(" notin ") {
                Req::NotIn(k.trim().to_string(), set_values(rest, &part)?)
            } else if let Some((k, rest)) = part.split_once(" in ") {
                Req::In(k.trim().to_string(), set_values(rest, &part)?)
            } else if part.contains(' ') || part.contains('(') {
                return Err(bad_selector(&part));
            } else {
                Req::Exists(part.clone())
            };
            reqs.push(req);
        }
        Ok(LabelSelector(reqs))
    }

    pub fn matches(&self, obj: &Value) -> bool {
        let labels = obj.pointer("/metadata/labels");
        let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            Req::Eq(k, v) => label(k) == Some(v.as_str()),
            Req::NotEq(k, v) => label(k) != Some(v.as_str()),
            Req::Exists(k) => label(k).is_some(),
            Req::NotExists(k) => label(k).is_none(),
            Req::In(k, vs) => label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            Req::NotIn(k, vs) => label(k).is_none_or(|l| !vs.iter().any(|v| v == l)),
        })
    }
}

/// A parsed field selector over the few fields the simulator supports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    /// The fields `r` supports: `metadata.name`/`metadata.namespace` everywhere, pods'
    /// `status.phase`, and the event fields of the API server's event field-label
    /// conversion (`involvedObject.*`, `reason`, `type`, `reportingComponent`, `source`).
    pub fn parse(s: &str, r: Resource) -> Result<FieldSelector, ApiError> {
        let mut reqs = Vec::new();
        for part in split_top(s) {
            let (field, eq, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{s}'; can't understand '{part}'"
                )));
            };
            let field = field.trim();
            let event_field = matches!(
                field,
                "involvedObject.kind"
                    | "involvedObject.namespace"
                    | "involvedObject.name"
                    | "involvedObject.uid"
                    | "involvedObject.apiVersion"
                    | "involvedObject.resourceVersion"
                    | "involvedObject.fieldPath"
                    | "reason"
                    | "reportingComponent"
                    | "source"
                    | "type"
            );
            let ok = matches!(field, "metadata.name" | "metadata.namespace")
                || (r == Resource::Pods && field == "status.phase")
                || (r == Resource::Events && event_field);
            if !ok {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {field}"
                )));
            }
            reqs.push((field.to_string(), eq, value.trim().to_string()));
        }
        Ok(FieldSelector(reqs))
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(field, eq, value)| {
            // An event's `source` selects on `source.component`.
            let field = if field == "source" {
                "source.component"
            } else {
                field
            };
            let ptr = format!("/{}", field.replace('.', "/"));
            let actual = obj.pointer(&ptr).and_then(Value::as_str).unwrap_or("");
            (actual == value) == *eq
        })
    }
}

/// A list continue token: the list's resourceVersion and the last key served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContinueToken {
    pub rv: String,
    pub after_ns: String,
    pub after_name: String,
}

impl ContinueToken {
    pub(crate) fn encode(&self) -> String {
        let j = json!({"v": "sim.continue/1", "rv": self.rv, "ns": self.after_ns, "name": self.after_name});
        hex::encode(j.to_string())
    }

    pub(crate) fn decode(s: &str) -> Result<ContinueToken, ApiError> {
        let bad = || {
            ApiError::bad_request(
                "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
            )
        };
        let bytes = hex::decode(s).map_err(|_| bad())?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        let field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        Ok(ContinueToken {
            rv: field("rv").ok_or_else(bad)?,
            after_ns: field("ns").ok_or_else(bad)?,
            after_name: field("name").ok_or_else(bad)?,
        })
    }
}

/// The 410 for a continue token older than the history.
pub(crate) fn expired_continue() -> ApiError {
    ApiError::expired(
        "The provided continue parameter is too old to display a consistent list result. \
         You can start a new list without the continue parameter, or use the continue value \
         from the response to get a consistent list.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "n", "namespace": "ns", "labels": labels}, "status": {"phase": "Running"}})
    }

    #[test]
    fn label_selectors() {
        let o = obj(json!({"app": "bao", "tier": "db"}));
        let yes = [
            "app=bao",
            "app==bao",
            "app!=x",
            "app",
            "!nope",
            "tier in (db, web)",
            "tier notin (web)",
            "app=bao,tier",
        ];
        for s in yes {
            assert!(LabelSelector::parse(s).unwrap().matches(&o), "{s}");
        }
        let no = [
            "app=x",
            "app!=bao",
            "nope",
            "!app",
            "tier in (web)",
            "tier notin (db)",
        ];
        for s in no {
            assert!(!LabelSelector::parse(s).unwrap().matches(&o), "{s}");
        }
        assert!(LabelSelector::parse("a in b").is_err());
    }

    #[test]
    fn field_selectors_and_query() {
        let o = obj(json!({}));
        assert!(
            FieldSelector::parse("metadata.name=n", Resource::Jobs)
                .unwrap()
                .matches(&o)
        );
        assert!(
            !FieldSelector::parse("metadata.name!=n", Resource::Jobs)
                .unwrap()
                .matches(&o)
        );
        assert!(
            FieldSelector::parse("status.phase=Running", Resource::Pods)
                .unwrap()
                .matches(&o)
        );
        assert_eq!(
            FieldSelector::parse("spec.x=1", Resource::Jobs)
                .unwrap_err()
                .code,
            400
        );
        let ev = json!({"involvedObject": {"kind": "OpenBaoCluster", "name": "c"},
            "reason": "BreakGlassEntered", "source": {}});
        let fs = FieldSelector::parse(
            "involvedObject.kind=OpenBaoCluster,involvedObject.name=c,reason=BreakGlassEntered",
            Resource::Events,
        )
        .unwrap();
        assert!(fs.matches(&ev));
        assert!(
            !FieldSelector::parse("reason=Other", Resource::Events)
                .unwrap()
                .matches(&ev)
        );
        assert!(
            FieldSelector::parse("source=", Resource::Events)
                .unwrap()
                .matches(&ev)
        );
        assert_eq!(
            FieldSelector::parse("reason=x", Resource::Pods)
                .unwrap_err()
                .code,
            400
        );
        let q = Query::parse(Some("labelSelector=app%3Dbao%2Ctier+in+%28db%29&watch=1&x"));
        assert_eq!(q.get("labelSelector"), Some("app=bao,tier in (db)"));
        assert!(q.flag("watch"));
        assert_eq!(q.get("x"), Some(""));
    }

    #[test]
    fn continue_token_roundtrip() {
        let t = ContinueToken {
            rv: "42".into(),
            after_ns: "a".into(),
            after_name: "b".into(),
        };
        assert_eq!(ContinueToken::decode(&t.encode()).unwrap(), t);
        assert_eq!(ContinueToken::decode("zz").unwrap_err().code, 400);
    }
}
