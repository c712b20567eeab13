//! Structural-schema handling for the operator's custom resources, from the real CRDs
//! embedded at build time (`assets/crds/`): defaulting, pruning of unknown fields, and
//! validation (type, enum, required, length, bounds, pattern, item counts) as the API
//! server applies them on create, update and patch (apiextensions-apiserver's
//! `pkg/apiserver/schema/`).
//!
//! CEL rules (`x-kubernetes-validations`) are not evaluated in general: the rules the
//! embedded CRDs carry are hand-coded (see `known_rule`), with the API server's ratcheting
//! (a rule on an unchanged value is not re-checked). `format` is not checked.

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::operator_line::OperatorLine;
use super::store::Resource;

/// One schema violation, as an entry of `details.causes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub reason: String,
    pub message: String,
    pub field: String,
}

/// The openAPIV3Schema of a CRD's served version.
#[derive(Debug)]
pub struct CrdSchema {
    root: Value,
}

fn parse(yaml: &str) -> Option<CrdSchema> {
    let doc: Value = serde_yaml::from_str(yaml).ok()?;
    let root = doc
        .pointer("/spec/versions/0/schema/openAPIV3Schema")?
        .clone();
    Some(CrdSchema { root })
}

/// The schema for a custom resource under `line`'s CRDs; None for built-ins (or if the
/// embedded CRD is broken, which the unit tests rule out).
pub fn for_resource(line: OperatorLine, r: Resource) -> Option<&'static CrdSchema> {
    static SCHEMAS: OnceLock<Vec<(OperatorLine, Resource, Option<CrdSchema>)>> = OnceLock::new();
    let all = SCHEMAS.get_or_init(|| {
        let mut v = Vec::new();
        for l in OperatorLine::ALL {
            for r in [Resource::OpenBaoClusters, Resource::OpenBaoRestores] {
                v.push((l, r, l.crd_yaml(r).and_then(parse)));
            }
        }
        v
    });
    all.iter()
        .find(|(l, res, _)| *l == line && *res == r)
        .and_then(|(_, _, s)| s.as_ref())
}

fn bool_of(schema: &Value, key: &str) -> bool {
    schema.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// How a value is quoted in Go's field-error messages.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Object(_) | Value::Array(_) => format!("\"{}\"", json_type(v)),
        other => other.to_string(),
    }
}

impl CrdSchema {
    /// The openAPIV3Schema itself (for the OpenAPI documents).
    pub fn root(&self) -> &Value {
        &self.root
    }

    /// Apply defaults and prune unknown fields in place (apiVersion, kind and metadata are
    /// left alone). Returns the paths of the pruned fields, for `fieldValidation=Strict`.
    pub fn default_and_prune(&self, obj: &mut Value) -> Vec<String> {
        let mut pruned = Vec::new();
        let Some(map) = obj.as_object_mut() else {
            return pruned;
        };
        let props = self.root.get("properties").and_then(Value::as_object);
        let keys: Vec<String> = map.keys().cloned().collect();
        for k in keys {
            if matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                continue;
            }
            match props.and_then(|p| p.get(&k)) {
                Some(s) => {
                    if let Some(v) = map.get_mut(&k) {
                        walk_prune(s, v, &k, &mut pruned);
                    }
                }
                None => {
                    map.remove(&k);
                    pruned.push(k);
                }
            }
        }
        pruned
    }

    /// Validate the (already pruned) object against the schema.
    pub fn validate(&self, obj: &Value) -> Vec<Cause> {
        let mut causes = Vec::new();
        let Some(map) = obj.as_object() else {
            return causes;
        };
        for req in self
            .root
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !map.contains_key(req) {
                causes.push(Cause {
                    reason: "FieldValueRequired".into(),
                    message: "Required value".into(),
                    field: req.to_string(),
                });
            }
        }
        if let Some(props) = self.root.get("properties").and_then(Value::as_object) {
            for (k, s) in props {
                if matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                if let Some(v) = map.get(k) {
                    walk_validate(s, v, k, &mut causes);
                }
            }
        }
        causes
    }
}

impl CrdSchema {
    /// The CEL rules of the schema, for an update from `old` (None: a create).
    pub(crate) fn validate_rules(&self, obj: &Value, old: Option<&Value>) -> Vec<Cause> {
        let mut causes = Vec::new();
        if let Some(props) = self.root.get("properties").and_then(Value::as_object) {
            for (k, s) in props {
                if let Some(v) = obj.get(k) {
                    walk_rules(s, v, old.and_then(|o| o.get(k)), k, &mut causes);
                }
            }
        }
        causes
    }
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The CEL rules of the operator's CRDs, evaluated in Rust. None: a rule we do not know.
fn known_rule(rule: &str, v: &Value) -> Option<bool> {
    let s = |p: &str| v.pointer(p).and_then(Value::as_str);
    match collapse(rule).as_str() {
        "self.tls.mode != 'OperatorManaged' || size(self.tls.rotationPeriod) > 0" => {
            // A missing key is a CEL evaluation error, which the API server reports as a
            // failed rule.
            Some(match s("/tls/mode") {
                Some(mode) if mode != "OperatorManaged" => true,
                Some(_) => s("/tls/rotationPeriod").is_some_and(|r| !r.is_empty()),
                None => false,
            })
        }
        "!(has(self.domain) && has(self.domains) && size(self.domains) > 0)" => {
            let domains = v.get("domains").and_then(Value::as_array);
            Some(!(v.get("domain").is_some() && domains.is_some_and(|d| !d.is_empty())))
        }
        _ => None,
    }
}

fn walk_rules(schema: &Value, v: &Value, old: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    if old == Some(v) {
        return; // ratcheting: unchanged values are not re-validated
    }
    for rule in schema
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let text = rule.get("rule").and_then(Value::as_str).unwrap_or("");
        if known_rule(text, v) == Some(false) {
            let msg = rule.get("message").and_then(Value::as_str).unwrap_or(text);
            causes.push(Cause {
                reason: "FieldValueInvalid".into(),
                message: format!("Invalid value: \"{}\": {msg}", json_type(v)),
                field: path.to_string(),
            });
        }
    }
    if let (Value::Object(map), Some(props)) =
        (v, schema.get("properties").and_then(Value::as_object))
    {
        for (k, s) in props {
            if let Some(cv) = map.get(k) {
                walk_rules(s, cv, old.and_then(|o| o.get(k)), &join(path, k), causes);
            }
        }
    }
}

fn walk_prune(schema: &Value, v: &mut Value, path: &str, pruned: &mut Vec<String>) {
    let preserve = bool_of(schema, "x-kubernetes-preserve-unknown-fields");
    match v {
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            if let Some(props) = props {
                for (k, s) in props {
                    if !map.contains_key(k)
                        && let Some(d) = s.get("default")
                    {
                        map.insert(k.clone(), d.clone());
                    }
                }
            }
            let additional = schema.get("additionalProperties");
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                let sub = props
                    .and_then(|p| p.get(&k))
                    .or(additional.filter(|a| a.is_object()));
                let child = join(path, &k);
                match sub {
                    Some(s) => {
                        if map.get(&k).is_some_and(Value::is_null) && !bool_of(s, "nullable") {
                            map.remove(&k);
                        } else if let Some(cv) = map.get_mut(&k) {
                            walk_prune(s, cv, &child, pruned);
                        }
                    }
                    None if preserve || additional.and_then(Value::as_bool) == Some(true) => {}
                    None => {
                        map.remove(&k);
                        pruned.push(child);
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    walk_prune(s, item, &format!("{path}[{i}]"), pruned);
                }
            }
        }
        _ => {}
    }
}

fn invalid(field: &str, v: &Value, detail: String) -> Cause {
    Cause {
        reason: "FieldValueInvalid".into(),
        message: format!("Invalid value: {}: {field} in body {detail}", show(v)),
        field: field.to_string(),
    }
}

fn type_ok(ty: &str, v: &Value) -> bool {
    match ty {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        _ => true,
    }
}

fn walk_validate(schema: &Value, v: &Value, path: &str, causes: &mut Vec<Cause>) {
    if v.is_null() && bool_of(schema, "nullable") {
        return;
    }
    if bool_of(schema, "x-kubernetes-int-or-string") {
        if !(v.is_string() || v.is_i64() || v.is_u64()) {
            causes.push(Cause {
                reason: "FieldValueTypeInvalid".into(),
                message: format!(
                    "Invalid value: \"{}\": {path} in body must be of type int-or-string: \"{}\"",
                    json_type(v),
                    json_type(v)
                ),
                field: path.to_string(),
            });
        }
        return;
    }
    if let Some(ty) = schema.get("type").and_then(Value::as_str)
        && !type_ok(ty, v)
    {
        causes.push(Cause {
            reason: "FieldValueTypeInvalid".into(),
            message: format!(
                "Invalid value: \"{}\": {path} in body must be of type {ty}: \"{}\"",
                json_type(v),
                json_type(v)
            ),
            field: path.to_string(),
        });
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(v)
    {
        let list: Vec<String> = allowed.iter().map(show).collect();
        causes.push(Cause {
            reason: "FieldValueNotSupported".into(),
            message: format!(
                "Unsupported value: {}: supported values: {}",
                show(v),
                list.join(", ")
            ),
            field: path.to_string(),
        });
    }
    let num = |k: &str| schema.get(k).and_then(Value::as_f64);
    match v {
        Value::String(s) => {
            let len = s.chars().count() as f64;
            if let Some(min) = num("minLength").filter(|m| len < *m) {
                causes.push(invalid(
                    path,
                    v,
                    format!("should be at least {min} chars long"),
                ));
            }
            if let Some(max) = num("maxLength").filter(|m| len > *m) {
                causes.push(Cause {
                    reason: "FieldValueTooLong".into(),
                    message: format!("Too long: may not be more than {max} bytes"),
                    field: path.to_string(),
                });
            }
            if let Some(p) = schema.get("pattern").and_then(Value::as_str)
                && let Ok(re) = regex::Regex::new(p)
                && !re.is_match(s)
            {
                causes.push(invalid(path, v, format!("should match '{p}'")));
            }
        }
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(0.0);
            if let Some(min) = num("minimum").filter(|m| x < *m) {
                causes.push(invalid(
                    path,
                    v,
                    format!("should be greater than or equal to {min}"),
                ));
            }
            if let Some(max) = num("maximum").filter(|m| x > *m) {
                causes.push(invalid(
                    path,
                    v,
                    format!("should be less than or equal to {max}"),
                ));
            }
        }
        Value::Array(items) => {
            let len = items.len() as f64;
            if let Some(min) = num("minItems").filter(|m| len < *m) {
                causes.push(invalid(
                    path,
                    v,
                    format!("should have at least {min} items"),
                ));
            }
            if let Some(max) = num("maxItems").filter(|m| len > *m) {
                causes.push(Cause {
                    reason: "FieldValueTooMany".into(),
                    message: format!("Too many: {len}: must have at most {max} items"),
                    field: path.to_string(),
                });
            }
            if let Some(s) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk_validate(s, item, &format!("{path}[{i}]"), causes);
                }
            }
        }
        Value::Object(map) => validate_object(schema, map, path, causes),
        _ => {}
    }
}

fn validate_object(schema: &Value, map: &Map<String, Value>, path: &str, causes: &mut Vec<Cause>) {
    for req in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !map.contains_key(req) {
            causes.push(Cause {
                reason: "FieldValueRequired".into(),
                message: "Required value".into(),
                field: join(path, req),
            });
        }
    }
    let props = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties").filter(|a| a.is_object());
    for (k, cv) in map {
        if let Some(s) = props.and_then(|p| p.get(k)).or(additional) {
            walk_validate(s, cv, &join(path, k), causes);
        }
    }
}

/// The 422 Invalid error for these causes, worded like the API server's.
pub(crate) fn invalid_error(r: Resource, name: &str, causes: &[Cause]) -> ApiError {
    let parts: Vec<String> = causes
        .iter()
        .map(|c| format!("{}: {}", c.field, c.message))
        .collect();
    let summary = if parts.len() == 1 {
        parts.concat()
    } else {
        format!("[{}]", parts.join(", "))
    };
    let kind = if r.group().is_empty() {
        r.kind().to_string()
    } else {
        format!("{}.{}", r.kind(), r.group())
    };
    let causes: Vec<Value> = causes
        .iter()
        .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
        .collect();
    let mut e = ApiError::new(
        422,
        "Invalid",
        format!("{kind} \"{name}\" is invalid: {summary}"),
    );
    e.details = Some(json!({
        "name": name,
        "group": r.group(),
        "kind": r.kind(),
        "causes": causes,
    }));
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_cluster() -> Value {
        json!({
            "apiVersion": "openbao.org/v1alpha1",
            "kind": "OpenBaoCluster",
            "metadata": {"name": "c", "namespace": "security", "anything": 1},
            "spec": {
                "version": "2.4.0",
                "replicas": 3,
                "profile": "Development",
                "storage": {"size": "10Gi"},
                "tls": {"enabled": true, "rotationPeriod": "720h"},
                "upgrade": {"strategy": "BlueGreen"}
            }
        })
    }

    #[test]
    fn embedded_crds_parse() {
        assert!(for_resource(OperatorLine::V01, Resource::OpenBaoClusters).is_some());
        assert!(for_resource(OperatorLine::V01, Resource::OpenBaoRestores).is_some());
        assert!(for_resource(OperatorLine::V01, Resource::Pods).is_none());
        for r in [Resource::OpenBaoClusters, Resource::OpenBaoRestores] {
            assert!(for_resource(OperatorLine::V06, r).is_some());
        }
    }

    #[test]
    fn prunes_unknown_fields_and_keeps_metadata() {
        let s = for_resource(OperatorLine::V01, Resource::OpenBaoClusters).unwrap();
        let mut o = valid_cluster();
        o["spec"]["bogus"] = json!(1);
        o["extra"] = json!(true);
        let pruned = s.default_and_prune(&mut o);
        assert_eq!(pruned, vec!["extra".to_string(), "spec.bogus".to_string()]);
        assert!(o["spec"].get("bogus").is_none());
        assert_eq!(o["metadata"]["anything"], 1);
        assert_eq!(o["spec"]["tls"]["mode"], "OperatorManaged", "defaulted");
        assert!(s.validate(&o).is_empty(), "{:?}", s.validate(&o));
    }

    #[test]
    fn enum_type_required_minimum() {
        let s = for_resource(OperatorLine::V01, Resource::OpenBaoClusters).unwrap();
        let mut o = valid_cluster();
        o["status"] = json!({"breakGlass": {"reason": "DirtyWrite", "active": true}});
        o["spec"]["replicas"] = json!(0);
        o["spec"]["storage"] = json!({});
        o["spec"]["version"] = json!(7);
        s.default_and_prune(&mut o);
        let causes = s.validate(&o);
        let fields: Vec<&str> = causes.iter().map(|c| c.field.as_str()).collect();
        assert!(fields.contains(&"status.breakGlass.reason"), "{causes:?}");
        assert!(fields.contains(&"spec.replicas"));
        assert!(fields.contains(&"spec.storage.size"));
        assert!(fields.contains(&"spec.version"));
        let e = causes
            .iter()
            .find(|c| c.field == "status.breakGlass.reason")
            .unwrap();
        assert_eq!(e.reason, "FieldValueNotSupported");
        assert_eq!(
            e.message,
            "Unsupported value: \"DirtyWrite\": supported values: \"RollbackConsensusRepairFailed\""
        );
        let err = invalid_error(Resource::OpenBaoClusters, "c", &causes[..1]);
        assert_eq!(err.code, 422);
        assert!(
            err.message
                .starts_with("OpenBaoCluster.openbao.org \"c\" is invalid: ")
        );
    }

    #[test]
    fn cel_rules_with_ratcheting() {
        let s = for_resource(OperatorLine::V01, Resource::OpenBaoClusters).unwrap();
        let mut o = valid_cluster();
        s.default_and_prune(&mut o);
        assert!(s.validate_rules(&o, None).is_empty());
        let mut bad = o.clone();
        bad["spec"]["tls"] = json!({"enabled": true, "mode": "OperatorManaged"});
        let causes = s.validate_rules(&bad, None);
        assert_eq!(causes.len(), 1, "{causes:?}");
        assert_eq!(causes[0].field, "spec");
        assert_eq!(
            causes[0].message,
            "Invalid value: \"object\": spec.tls.rotationPeriod is required when spec.tls.mode is OperatorManaged"
        );
        // Unchanged (ratcheted) spec passes; a changed one is checked.
        assert!(s.validate_rules(&bad, Some(&bad)).is_empty());
        let mut changed = bad.clone();
        changed["spec"]["breakGlassAck"] = json!("n");
        assert_eq!(s.validate_rules(&changed, Some(&bad)).len(), 1);
        let mut external = bad.clone();
        external["spec"]["tls"]["mode"] = json!("External");
        assert!(s.validate_rules(&external, None).is_empty());
        let mut acme = o.clone();
        acme["spec"]["tls"]["acme"] = json!({"directoryURL": "x", "domain": "a", "domains": ["b"]});
        let causes = s.validate_rules(&acme, None);
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].field, "spec.tls.acme");
    }
}
