//! Just enough Kubernetes protobuf to read a `SelfSubjectAccessReview` body: `kubectl auth
//! can-i` sends protobuf (`application/vnd.kubernetes.protobuf`) for built-in kinds, and
//! the real API server accepts it. Answers still go out as JSON, which client-go decodes
//! by the response's Content-Type.

use serde_json::{Map, Value, json};

/// The magic prefix of Kubernetes protobuf bodies.
const MAGIC: &[u8] = b"k8s\0";

fn varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos)?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// The length-delimited fields of a message, as (field number, bytes); other wire types
/// are skipped.
fn fields(buf: &[u8]) -> Option<Vec<(u64, &[u8])>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let key = varint(buf, &mut pos)?;
        match key & 7 {
            0 => {
                varint(buf, &mut pos)?;
            }
            1 => pos += 8,
            5 => pos += 4,
            2 => {
                let len = usize::try_from(varint(buf, &mut pos)?).ok()?;
                let end = pos.checked_add(len)?;
                out.push((key >> 3, buf.get(pos..end)?));
                pos = end;
            }
            _ => return None,
        }
    }
    Some(out)
}

fn field<'a>(fs: &[(u64, &'a [u8])], n: u64) -> Option<&'a [u8]> {
    fs.iter().find(|(k, _)| *k == n).map(|(_, v)| *v)
}

/// Decode a protobuf SelfSubjectAccessReview into its JSON form (spec only).
pub(crate) fn access_review(body: &[u8]) -> Option<Value> {
    let unknown = fields(body.strip_prefix(MAGIC)?)?;
    let raw = field(&unknown, 2)?;
    let review = fields(raw)?;
    let spec = fields(field(&review, 2)?)?;
    let mut spec_json = Map::new();
    if let Some(ra) = field(&spec, 1) {
        let ra = fields(ra)?;
        let names = [
            (1, "namespace"),
            (2, "verb"),
            (3, "group"),
            (4, "version"),
            (5, "resource"),
            (6, "subresource"),
            (7, "name"),
        ];
        let mut attrs = Map::new();
        for (n, key) in names {
            if let Some(v) = field(&ra, n) {
                attrs.insert(key.into(), json!(String::from_utf8_lossy(v)));
            }
        }
        spec_json.insert("resourceAttributes".into(), Value::Object(attrs));
    }
    Some(
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": spec_json}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_kubectl_can_i_body() {
        // Captured from `kubectl auth can-i patch openbaoclusters` (v1.32).
        let body = b"k8s\0\n2\n\x17authorization.k8s.io/v1\x12\x17SelfSubjectAccessReview\x12U\n\x10\n\0\x12\0\x1a\0\"\0*\x002\x008\0B\0\x127\n5\n\x08security\x12\x05patch\x1a\x0bopenbao.org\"\0*\x0fopenbaoclusters\x32\0:\0\x1a\x08\x08\0\x12\0\x1a\0 \0\x1a\0\"\0";
        let v = access_review(body).unwrap();
        let a = &v["spec"]["resourceAttributes"];
        assert_eq!(a["namespace"], "security");
        assert_eq!(a["verb"], "patch");
        assert_eq!(a["group"], "openbao.org");
        assert_eq!(a["resource"], "openbaoclusters");
        assert!(access_review(b"{}").is_none());
    }
}
