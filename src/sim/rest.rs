//! Object requests of the simulator's API server: get, list, create, update, patch and
//! delete, the `status` subresource (main writes ignore `.status`, status writes ignore
//! everything else), dry runs, delete propagation, and schema admission for the custom
//! resources (`scale` and the pod proxy are in `subres`). Every write goes through the
//! [`Store`](super::store).

use hyper::body::Incoming;
use hyper::{Request, header};
use serde_json::{Value, json};

use super::error::ApiError;
use super::operator_line::OperatorLine;
use super::patch::{PatchType, json_patch, merge_patch, parse_body};
use super::schema;
use super::select::{ContinueToken, FieldSelector, LabelSelector, Query, expired_continue};
use super::server::{Ctx, Resp, Target, error_resp, json_resp, not_found_path, read_body};
use super::store::{Resource, UpdateOptions};
use super::subres::{scale_of, write_scale};
use super::table;

pub(crate) type Answer = Result<(u16, Value, Vec<String>), ApiError>;

pub(crate) fn rv_of(v: &Value) -> &str {
    v.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn ok(code: u16, v: Value) -> Answer {
    Ok((code, v, Vec::new()))
}

pub(crate) async fn handle(
    ctx: &Ctx,
    verb: &str,
    t: &Target,
    req: Request<Incoming>,
    q: &Query,
) -> Resp {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let sub_ok = match t.sub.as_deref() {
        None => true,
        Some("status") => t.r.has_status(),
        Some("scale") => t.r == Resource::Deployments,
        Some(_) => false,
    };
    if !sub_ok || (t.ns.is_none() && t.r.namespaced() && verb != "list") {
        return error_resp(&not_found_path());
    }
    let answer = match verb {
        "list" => list(ctx, t, q, table::wants_table(&accept)),
        "get" => get(ctx, t, table::wants_table(&accept)),
        "create" | "update" | "patch" | "delete" => match read_body(req).await {
            Err(e) => Err(e),
            Ok(_) if matches!(verb, "create" | "update") && !json_or_yaml(&content_type) => {
                Err(unsupported_patch("application/json, application/yaml"))
            }
            Ok(body) => match verb {
                "create" => create(ctx, t, &body, q),
                "update" => update(ctx, t, &body, q),
                "patch" => patch(ctx, t, &body, &content_type, q),
                _ => delete(ctx, t, &body, q),
            },
        },
        _ => Err(ApiError::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )),
    };
    match answer {
        Ok((code, v, warnings)) => {
            let mut resp = json_resp(code, &v);
            for w in warnings {
                if let Ok(h) = header::HeaderValue::from_str(&format!("299 - \"{w}\"")) {
                    resp.headers_mut().append(header::WARNING, h);
                }
            }
            resp
        }
        Err(e) => error_resp(&e),
    }
}

fn list(ctx: &Ctx, t: &Target, q: &Query, as_table: bool) -> Answer {
    let ls = LabelSelector::parse(q.get("labelSelector").unwrap_or(""))?;
    let fs = FieldSelector::parse(q.get("fieldSelector").unwrap_or(""), t.r)?;
    let (items, mut rv) = ctx.store().list(t.r, t.ns.as_deref());
    let key = |o: &Value| {
        let s = |p: &str| {
            o.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        (s("/metadata/namespace"), s("/metadata/name"))
    };
    let mut items: Vec<Value> = items
        .into_iter()
        .filter(|o| ls.matches(o) && fs.matches(o))
        .collect();
    if let Some(c) = q.get("continue").filter(|c| !c.is_empty()) {
        let tok = ContinueToken::decode(c)?;
        if !ctx.store().rv_available(&tok.rv) {
            return Err(expired_continue());
        }
        let after = (tok.after_ns.clone(), tok.after_name.clone());
        items.retain(|o| key(o) > after);
        rv = tok.rv;
    }
    let mut meta = json!({"resourceVersion": rv});
    if let Some(limit) = q.number("limit")?.filter(|l| *l > 0)
        && let Ok(limit) = usize::try_from(limit)
        && items.len() > limit
    {
        let remaining = items.len() - limit;
        items.truncate(limit);
        if let Some(last) = items.last() {
            let (ns, name) = key(last);
            let tok = ContinueToken {
                rv: rv.clone(),
                after_ns: ns,
                after_name: name,
            };
            meta["continue"] = json!(tok.encode());
            meta["remainingItemCount"] = json!(remaining);
        }
    }
    if as_table {
        return ok(200, table::table(t.r, &items, &rv));
    }
    ok(
        200,
        json!({
            "kind": format!("{}List", t.r.kind()),
            "apiVersion": t.r.api_version(),
            "metadata": meta,
            "items": items,
        }),
    )
}

fn current(ctx: &Ctx, t: &Target) -> Result<(String, String, Value), ApiError> {
    let ns = t.ns.clone().unwrap_or_default();
    let name = t.name.clone().unwrap_or_default();
    let obj = ctx
        .store()
        .get(t.r, &ns, &name)
        .ok_or_else(|| ApiError::not_found(t.r, &name))?;
    Ok((ns, name, obj))
}

fn get(ctx: &Ctx, t: &Target, as_table: bool) -> Answer {
    let (_, _, obj) = current(ctx, t)?;
    if t.sub.as_deref() == Some("scale") {
        return ok(200, scale_of(&obj));
    }
    if as_table {
        return ok(
            200,
            table::table(t.r, std::slice::from_ref(&obj), rv_of(&obj)),
        );
    }
    ok(200, obj)
}

fn parse_object(body: &[u8]) -> Result<Value, ApiError> {
    let v: Value = serde_json::from_slice(body)
        .or_else(|_| serde_yaml::from_slice(body))
        .map_err(|e| ApiError::bad_request(format!("couldn't decode the request body: {e}")))?;
    if !v.is_object() {
        return Err(ApiError::bad_request("the request body is not an object"));
    }
    Ok(v)
}

fn check_type(r: Resource, obj: &Value) -> Result<(), ApiError> {
    if let Some(av) = obj.get("apiVersion").and_then(Value::as_str)
        && av != r.api_version()
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({av}) does not match the expected API version ({})",
            r.api_version()
        )));
    }
    if let Some(k) = obj.get("kind").and_then(Value::as_str)
        && k != r.kind()
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({k}) does not match the expected kind ({})",
            r.kind()
        )));
    }
    Ok(())
}

/// Object names must be RFC 1123 subdomains (the API server's generic name validation).
fn check_name(r: Resource, name: &str) -> Result<(), ApiError> {
    const RE: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
    static NAME: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let valid = NAME
        .get_or_init(|| regex::Regex::new(RE).ok())
        .as_ref()
        .is_none_or(|re| re.is_match(name));
    if valid && name.len() <= 253 {
        return Ok(());
    }
    Err(schema::invalid_error(
        r,
        name,
        &[schema::Cause {
            reason: "FieldValueInvalid".into(),
            message: format!(
                "Invalid value: {name:?}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
            ),
            field: "metadata.name".into(),
        }],
    ))
}

/// Defaulting, pruning and validation of custom resources; warnings for pruned fields.
fn admit(
    line: OperatorLine,
    r: Resource,
    name: &str,
    obj: &mut Value,
    old: Option<&Value>,
    q: &Query,
) -> Result<Vec<String>, ApiError> {
    let Some(s) = schema::for_resource(line, r) else {
        return Ok(Vec::new());
    };
    let pruned = s.default_and_prune(obj);
    let unknown: Vec<String> = pruned
        .iter()
        .map(|p| format!("unknown field \"{p}\""))
        .collect();
    if !unknown.is_empty() && q.get("fieldValidation") == Some("Strict") {
        return Err(ApiError::bad_request(format!(
            "{kind} in version \"{v}\" cannot be handled as a {kind}: strict decoding error: {}",
            unknown.join(", "),
            kind = r.kind(),
            v = r.version()
        )));
    }
    let mut causes = s.validate(obj);
    if causes.is_empty() {
        causes = s.validate_rules(obj, old);
    }
    if !causes.is_empty() {
        return Err(schema::invalid_error(r, name, &causes));
    }
    let warn = q.get("fieldValidation").is_none_or(|v| v == "Warn");
    Ok(if warn { unknown } else { Vec::new() })
}

/// Status-subresource semantics: a main write keeps the stored status, a status write
/// keeps everything but the status.
fn combine(old: &Value, incoming: Value, sub: Option<&str>) -> Value {
    let take_status = |mut base: Value, from: &Value| {
        match (from.get("status"), base.as_object_mut()) {
            (Some(s), Some(m)) => {
                m.insert("status".into(), s.clone());
            }
            (None, Some(m)) => {
                m.remove("status");
            }
            _ => {}
        }
        base
    };
    match sub {
        Some("status") => take_status(old.clone(), &incoming),
        _ => take_status(incoming, old),
    }
}

fn create(ctx: &Ctx, t: &Target, body: &[u8], q: &Query) -> Answer {
    if t.name.is_some() {
        return Err(ApiError::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        ));
    }
    let ns = t.ns.clone().unwrap_or_default();
    let mut obj = parse_object(body)?;
    check_type(t.r, &obj)?;
    if let Some(m) = obj
        .get("metadata")
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
        && !m.is_empty()
        && m != ns
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    if let Some(m) = obj.as_object_mut() {
        m.remove("status");
        if !t.r.namespaced() {
            // Cluster-scoped: the store keeps no namespace.
        } else if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("namespace".into(), json!(ns));
            meta.remove("resourceVersion");
        } else {
            m.insert("metadata".into(), json!({"namespace": ns}));
        }
    }
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if !name.is_empty() {
        check_name(t.r, &name)?;
    }
    let warnings = admit(ctx.store().operator(), t.r, &name, &mut obj, None, q)?;
    let created = ctx.store().create_opts(t.r, obj, q.dry_run())?;
    Ok((201, created, warnings))
}

fn update(ctx: &Ctx, t: &Target, body: &[u8], q: &Query) -> Answer {
    let (ns, name, cur) = current(ctx, t)?;
    let obj = parse_object(body)?;
    if t.sub.as_deref() == Some("scale") {
        let rv = rv_of(&obj).to_string();
        if !rv.is_empty() && rv != rv_of(&cur) {
            return Err(ApiError::conflict(t.r, &name));
        }
        return write_scale(ctx, t, &cur, &obj, q);
    }
    check_type(t.r, &obj)?;
    if let Some(n) = obj.pointer("/metadata/name").and_then(Value::as_str)
        && n != name
    {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({n}) does not match the name on the URL ({name})"
        )));
    }
    let rv = rv_of(&obj).to_string();
    if t.r.is_custom() && rv.is_empty() {
        return Err(schema::invalid_error(
            t.r,
            &name,
            &[schema::Cause {
                reason: "FieldValueInvalid".into(),
                message: "Invalid value: 0x0: must be specified for an update".into(),
                field: "metadata.resourceVersion".into(),
            }],
        ));
    }
    let mut new = combine(&cur, obj, t.sub.as_deref());
    let warnings = admit(ctx.store().operator(), t.r, &name, &mut new, Some(&cur), q)?;
    let opts = UpdateOptions {
        precondition: Some(rv).filter(|r| !r.is_empty()),
        dry_run: q.dry_run(),
    };
    let v = ctx.store().update(t.r, &ns, &name, new, &opts)?;
    Ok((200, v, warnings))
}

/// Bodies the simulator can read for create and update (no protobuf, no CBOR).
fn json_or_yaml(content_type: &str) -> bool {
    let base = content_type.split(';').next().unwrap_or("").trim();
    matches!(base, "" | "application/json" | "application/yaml" | "*/*")
}

fn unsupported_patch(accepted: &str) -> ApiError {
    ApiError::new(
        415,
        "UnsupportedMediaType",
        format!(
            "the body of the request was in an unknown format - accepted media types include: {accepted}"
        ),
    )
}

fn patch(ctx: &Ctx, t: &Target, body: &[u8], content_type: &str, q: &Query) -> Answer {
    let pt = PatchType::from_content_type(content_type);
    let pt = match pt {
        Some(PatchType::Strategic) if t.r.is_custom() => None,
        other => other,
    };
    let Some(pt) = pt else {
        return Err(unsupported_patch(if t.r.is_custom() {
            "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
        } else {
            "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml"
        }));
    };
    if pt == PatchType::Apply && q.get("fieldManager").is_none_or(str::is_empty) {
        let mut e = ApiError::new(
            422,
            "Invalid",
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
        );
        e.details = Some(
            json!({"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [
                {"reason": "FieldValueRequired", "message": "Required value: is required for apply patch", "field": "fieldManager"}
            ]}),
        );
        return Err(e);
    }
    let patch = parse_body(pt, body)?;
    if pt == PatchType::Apply
        && q.get("fieldValidation") == Some("Strict")
        && let Some(s) = schema::for_resource(ctx.store().operator(), t.r)
    {
        // Server-side apply types the applied configuration first, so a strict apply
        // words an undeclared field differently from create/update.
        let pruned = s.default_and_prune(&mut patch.clone());
        if let Some(first) = pruned.first() {
            return Err(ApiError::bad_request(format!(
                "failed to create typed patch object ({}, Kind={}): .{first}: field not declared in schema",
                t.r.api_version(),
                t.r.kind()
            )));
        }
    }
    for _attempt in 0..5 {
        let (ns, name, cur) = match current(ctx, t) {
            Ok(c) => c,
            Err(e) if e.code == 404 && pt == PatchType::Apply && t.sub.is_none() => {
                let mut obj = patch.clone();
                check_type(t.r, &obj)?;
                obj["metadata"]["namespace"] = json!(t.ns.clone().unwrap_or_default());
                obj["metadata"]["name"] = json!(t.name.clone().unwrap_or_default());
                if let Some(m) = obj.as_object_mut() {
                    m.remove("status");
                }
                let name = t.name.clone().unwrap_or_default();
                let warnings = admit(ctx.store().operator(), t.r, &name, &mut obj, None, q)?;
                let created = ctx.store().create_opts(t.r, obj, q.dry_run())?;
                return Ok((201, created, warnings));
            }
            Err(e) => return Err(e),
        };
        let base = if t.sub.as_deref() == Some("scale") {
            scale_of(&cur)
        } else {
            cur.clone()
        };
        let mut patched = base.clone();
        match pt {
            PatchType::Json => json_patch(&mut patched, &patch)?,
            _ => merge_patch(&mut patched, &patch),
        }
        let sent_rv = rv_of(&patched).to_string();
        if !sent_rv.is_empty() && sent_rv != rv_of(&base) {
            return Err(ApiError::conflict(t.r, &name));
        }
        if t.sub.as_deref() == Some("scale") {
            match write_scale(ctx, t, &cur, &patched, q) {
                Err(e) if e.reason == "Conflict" && sent_rv.is_empty() => continue,
                other => return other,
            }
        }
        let mut new = combine(&cur, patched, t.sub.as_deref());
        let warnings = admit(ctx.store().operator(), t.r, &name, &mut new, Some(&cur), q)?;
        let opts = UpdateOptions {
            precondition: Some(rv_of(&cur).to_string()),
            dry_run: q.dry_run(),
        };
        match ctx.store().update(t.r, &ns, &name, new, &opts) {
            // Someone else wrote in between and the client sent no resourceVersion: retry
            // on the fresh object, as the API server's GuaranteedUpdate does.
            Err(e) if e.reason == "Conflict" && sent_rv.is_empty() => continue,
            Err(e) => return Err(e),
            Ok(v) => return Ok((200, v, warnings)),
        }
    }
    Err(ApiError::conflict(t.r, t.name.as_deref().unwrap_or("")))
}

fn delete(ctx: &Ctx, t: &Target, body: &[u8], q: &Query) -> Answer {
    if t.sub.is_some() {
        return Err(not_found_path());
    }
    let (ns, name, cur) = current(ctx, t)?;
    let delete_opts: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?
    };
    let dry_run = q.dry_run()
        || delete_opts
            .get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|v| v == "All"));
    let pre = |k: &str| {
        delete_opts
            .pointer(&format!("/preconditions/{k}"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    if let Some(uid) = pre("uid") {
        let actual = cur
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or("");
        if uid != actual {
            return Err(ApiError::new(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": Precondition failed: UID in precondition: {uid}, UID in object meta: {actual}",
                    t.r.qualified()
                ),
            )
            .with_target(t.r, &name));
        }
    }
    let rv = pre("resourceVersion");
    if let Some(rv) = &rv
        && rv != rv_of(&cur)
    {
        return Err(ApiError::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": the ResourceVersion in the precondition ({rv}) does not match the ResourceVersion in record ({}). The object might have been modified",
                t.r.qualified(),
                rv_of(&cur)
            ),
        )
        .with_target(t.r, &name));
    }
    let opts = UpdateOptions {
        precondition: rv,
        dry_run,
    };
    let v = ctx.store().delete_opts(t.r, &ns, &name, &opts)?;
    // Background cascade is the default, except for Jobs, whose REST default is still
    // orphaning their pods (kubectl asks for background explicitly).
    let policy = opts_policy(&delete_opts, q, t.r);
    if !dry_run
        && policy != "Orphan"
        && let Some(uid) = cur.pointer("/metadata/uid").and_then(Value::as_str)
    {
        ctx.store().delete_dependents(uid);
    }
    ok(200, v)
}

fn opts_policy(delete_opts: &Value, q: &Query, r: Resource) -> String {
    let orphan = delete_opts.get("orphanDependents").and_then(Value::as_bool) == Some(true)
        || q.get("orphanDependents") == Some("true");
    let explicit = delete_opts
        .get("propagationPolicy")
        .and_then(Value::as_str)
        .or_else(|| q.get("propagationPolicy"));
    match explicit {
        Some(p) => p.to_string(),
        None if orphan || r == Resource::Jobs => "Orphan".to_string(),
        None => "Background".to_string(),
    }
}
