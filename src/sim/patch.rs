//! Patch application for the simulator's API server: JSON merge patch (RFC 7386), JSON
//! patch (RFC 6902) and a simplified server-side apply (the applied configuration merged
//! over the live object; no field ownership). Which patch types a resource accepts is
//! decided by the server (strategic merge is 415 on custom resources, as in
//! apiextensions-apiserver's `pkg/apiserver/customresource_handler.go`).

use serde_json::Value;

use super::error::ApiError;

/// The patch types the API server knows, from the request's Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Merge,
    Json,
    Strategic,
    Apply,
}

impl PatchType {
    pub(crate) fn from_content_type(ct: &str) -> Option<PatchType> {
        let base = ct.split(';').next().unwrap_or("").trim();
        match base {
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/json-patch+json" => Some(PatchType::Json),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => {
                Some(PatchType::Apply)
            }
            _ => None,
        }
    }
}

/// RFC 7386: objects merge recursively, `null` removes, anything else replaces.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn split_pointer(path: &str) -> Result<(String, String), ApiError> {
    if path.is_empty() {
        return Err(ApiError::new(422, "Invalid", "the root cannot be replaced"));
    }
    let Some(idx) = path.rfind('/') else {
        return Err(ApiError::new(
            422,
            "Invalid",
            format!("invalid JSON pointer: {path:?}"),
        ));
    };
    Ok((path[..idx].to_string(), unescape(&path[idx + 1..])))
}

fn op_err(msg: String) -> ApiError {
    ApiError::new(422, "Invalid", msg)
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), ApiError> {
    let (parent, last) = split_pointer(path)?;
    match doc.pointer_mut(&parent) {
        Some(Value::Object(m)) => {
            m.insert(last, value);
            Ok(())
        }
        Some(Value::Array(a)) => {
            if last == "-" {
                a.push(value);
                return Ok(());
            }
            match last.parse::<usize>() {
                Ok(i) if i <= a.len() => {
                    a.insert(i, value);
                    Ok(())
                }
                _ => Err(op_err(format!("add operation: index out of range: {path}"))),
            }
        }
        _ => Err(op_err(format!(
            "add operation does not apply: doc is missing path: \"{path}\": missing value"
        ))),
    }
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, ApiError> {
    let (parent, last) = split_pointer(path)?;
    let missing = || {
        op_err(format!(
            "remove operation does not apply: doc is missing path: \"{path}\": missing value"
        ))
    };
    match doc.pointer_mut(&parent) {
        Some(Value::Object(m)) => m.remove(&last).ok_or_else(missing),
        Some(Value::Array(a)) => match last.parse::<usize>() {
            Ok(i) if i < a.len() => Ok(a.remove(i)),
            _ => Err(missing()),
        },
        _ => Err(missing()),
    }
}

/// RFC 6902. A failed `test` or a missing path is 422, as the API server answers.
pub(crate) fn json_patch(doc: &mut Value, ops: &Value) -> Result<(), ApiError> {
    let ops = ops
        .as_array()
        .ok_or_else(|| ApiError::bad_request("json patch must be an array of operations"))?;
    for op in ops {
        let kind = op.get("op").and_then(Value::as_str).unwrap_or("");
        let path = op.get("path").and_then(Value::as_str).unwrap_or("");
        let value = op.get("value").cloned();
        let from = op.get("from").and_then(Value::as_str).unwrap_or("");
        match kind {
            "add" => add(doc, path, value.unwrap_or(Value::Null))?,
            "remove" => {
                remove(doc, path)?;
            }
            "replace" => {
                remove(doc, path).map_err(|_| {
                    op_err(format!(
                        "replace operation does not apply: doc is missing key: {path}: missing value"
                    ))
                })?;
                add(doc, path, value.unwrap_or(Value::Null))?;
            }
            "move" => {
                let v = remove(doc, from)?;
                add(doc, path, v)?;
            }
            "copy" => {
                let v = doc
                    .pointer(from)
                    .cloned()
                    .ok_or_else(|| op_err(format!("copy operation: missing from path {from}")))?;
                add(doc, path, v)?;
            }
            "test" => {
                if doc.pointer(path) != value.as_ref() {
                    return Err(op_err(format!("testing value {path} failed: test failed")));
                }
            }
            other => {
                return Err(ApiError::bad_request(format!("Unexpected kind: {other}")));
            }
        }
    }
    Ok(())
}

/// Parse a patch body: YAML for apply, JSON otherwise. Garbage is 400 like the real server.
pub(crate) fn parse_body(pt: PatchType, body: &[u8]) -> Result<Value, ApiError> {
    let parsed = match pt {
        PatchType::Apply => serde_yaml::from_slice::<Value>(body).map_err(|e| e.to_string()),
        _ => serde_json::from_slice::<Value>(body).map_err(|e| e.to_string()),
    };
    parsed.map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_rfc7386() {
        let mut t = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut t, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(t, json!({"a": "z", "c": {"d": "e"}}));
        let mut arr = json!({"a": [1, 2]});
        merge_patch(&mut arr, &json!({"a": [3]}));
        assert_eq!(arr, json!({"a": [3]}));
    }

    #[test]
    fn json_patch_ops_and_failures() {
        let mut d = json!({"spec": {"replicas": 3, "list": [1, 2]}});
        json_patch(
            &mut d,
            &json!([
                {"op": "test", "path": "/spec/replicas", "value": 3},
                {"op": "replace", "path": "/spec/replicas", "value": 5},
                {"op": "add", "path": "/spec/list/-", "value": 9},
                {"op": "remove", "path": "/spec/list/0"},
                {"op": "copy", "from": "/spec/replicas", "path": "/spec/copy"}
            ]),
        )
        .unwrap();
        assert_eq!(
            d,
            json!({"spec": {"replicas": 5, "list": [2, 9], "copy": 5}})
        );
        let e = json_patch(
            &mut d,
            &json!([{"op": "test", "path": "/spec/replicas", "value": 1}]),
        )
        .unwrap_err();
        assert_eq!(e.code, 422);
        let e = json_patch(&mut d, &json!([{"op": "remove", "path": "/nope/x"}])).unwrap_err();
        assert_eq!(e.code, 422);
    }

    #[test]
    fn content_types() {
        assert_eq!(
            PatchType::from_content_type("application/merge-patch+json; charset=utf-8"),
            Some(PatchType::Merge)
        );
        assert_eq!(PatchType::from_content_type("application/json"), None);
    }
}
