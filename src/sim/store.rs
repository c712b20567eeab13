//! The simulator's object store: the single source of truth behind the fake API server.
//!
//! Holds objects as JSON, assigns resourceVersions from one global counter (opaque strings
//! to clients), keeps a bounded change history for watches, and broadcasts every change.
//! The HTTP layer (`server`) and the operator twin (`twin`) both go through it, so a twin
//! write produces the same watch events a real controller's write would.
//!
//! CONTRACT (owned by the simulator-server helper; the twin codes against these signatures).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::broadcast;

use super::operator_line::OperatorLine;
use super::podlog::LogBook;
pub(crate) use super::podlog::LogRead;

pub use resource::Resource;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    Added,
    Modified,
    Deleted,
}

/// One change, as broadcast to watchers and the twin.
#[derive(Debug, Clone)]
pub struct Change {
    pub resource: Resource,
    pub change: ChangeType,
    /// The object after the change (for Deleted: the last state, with the delete's rv).
    pub object: Value,
}

pub(crate) use super::error::ApiError;

/// How many changes the watch history keeps before older resourceVersions expire.
pub(crate) const HISTORY_LIMIT: usize = 1000;

type Key = (Resource, String, String);

impl Inner {
    /// The stored object under `(r, ns, name)` (404 if absent), checked against a
    /// resourceVersion precondition (409 if stale; `None` or empty: no precondition).
    fn current(
        &self,
        r: Resource,
        ns: &str,
        name: &str,
        precondition: Option<&str>,
    ) -> Result<(Key, Value), ApiError> {
        let key = (r, ns.to_string(), name.to_string());
        let old = self
            .objects
            .get(&key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(r, name))?;
        if let Some(pre) = precondition.filter(|p| !p.is_empty())
            && meta_str(&old, "resourceVersion") != Some(pre)
        {
            return Err(ApiError::conflict(r, name));
        }
        Ok((key, old))
    }
}

struct Inner {
    objects: BTreeMap<Key, Value>,
    rv: u64,
    history: VecDeque<(u64, Transition)>,
    /// Watches must start at or after this rv: older changes are gone.
    compacted: u64,
    logs: LogBook,
}

/// Options for [`Store::update`], the API server's write path.
#[derive(Debug, Clone, Default)]
pub struct UpdateOptions {
    /// `metadata.resourceVersion` the client sent; stale → 409 Conflict.
    pub precondition: Option<String>,
    /// Return the would-be object; persist nothing, send no event.
    pub dry_run: bool,
}

/// The store. Cheap to share: `Arc<Store>`.
pub struct Store {
    inner: Mutex<Inner>,
    tx: Channels,
    /// Whose CRD schemas apply to the custom resources.
    operator: OperatorLine,
}

fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .to_string()
}

pub(crate) fn new_uid() -> String {
    let mut b = [0u8; 16];
    rand::fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Five characters from the alphabet the API server uses for `generateName` suffixes.
pub(crate) fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5)
        .map(|_| char::from(ALPHABET[rand::random_range(0..ALPHABET.len())]))
        .collect()
}

/// What the API server does to every stored custom resource, whoever writes it: schema
/// defaults applied, unknown fields pruned (validation is the HTTP layer's admission).
fn normalise(line: OperatorLine, r: Resource, obj: &mut Value) {
    if let Some(schema) = super::schema::for_resource(line, r) {
        schema.default_and_prune(obj);
    }
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.get("metadata")?.get(field)?.as_str()
}

fn has_finalizers(obj: &Value) -> bool {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
}

fn ensure_metadata(obj: &mut Value) -> Result<&mut serde_json::Map<String, Value>, ApiError> {
    let map = obj
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request("the object is not a JSON object"))?;
    let meta = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Default::default()));
    if !meta.is_object() {
        *meta = Value::Object(Default::default());
    }
    meta.as_object_mut()
        .ok_or_else(|| ApiError::bad_request("metadata is not an object"))
}

impl Inner {
    fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    fn record(&mut self, tx: &Channels, rv: u64, change: Change, prev: Option<Value>) {
        if self.history.len() >= HISTORY_LIMIT
            && let Some((old, _)) = self.history.pop_front()
        {
            self.compacted = old;
        }
        let t = Transition {
            change: change.clone(),
            prev,
        };
        self.history.push_back((rv, t.clone()));
        // No receivers is fine: nobody is watching.
        let _ = tx.changes.send(change);
        let _ = tx.transitions.send(t);
    }
}

struct Channels {
    changes: broadcast::Sender<Change>,
    transitions: broadcast::Sender<Transition>,
}

impl Store {
    /// A store with the 0.1 line's CRD schemas.
    pub fn new() -> Arc<Store> {
        Self::for_operator(OperatorLine::V01)
    }

    /// A store whose custom resources follow `operator`'s CRDs.
    pub fn for_operator(operator: OperatorLine) -> Arc<Store> {
        let tx = Channels {
            changes: broadcast::channel(4096).0,
            transitions: broadcast::channel(4096).0,
        };
        Arc::new(Store {
            inner: Mutex::new(Inner {
                objects: BTreeMap::new(),
                rv: 0,
                history: VecDeque::new(),
                compacted: 0,
                logs: LogBook::new(),
            }),
            tx,
            operator,
        })
    }

    /// The operator line whose CRDs this store applies.
    pub fn operator(&self) -> OperatorLine {
        self.operator
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (every write is one
        // assignment), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Current object, or None.
    pub fn get(&self, r: Resource, ns: &str, name: &str) -> Option<Value> {
        self.lock()
            .objects
            .get(&(r, ns.to_string(), name.to_string()))
            .cloned()
    }

    /// All objects of a resource (in one namespace, or all), and the list resourceVersion.
    pub fn list(&self, r: Resource, ns: Option<&str>) -> (Vec<Value>, String) {
        let g = self.lock();
        let items = g
            .objects
            .iter()
            .filter(|((res, n, _), _)| *res == r && ns.is_none_or(|ns| ns == n))
            .map(|(_, v)| v.clone())
            .collect();
        (items, g.rv.to_string())
    }

    /// Namespaces that hold at least one object, plus the ones every cluster has.
    pub fn namespaces(&self) -> Vec<String> {
        let g = self.lock();
        let mut set: std::collections::BTreeSet<String> = ["default", "kube-public", "kube-system"]
            .into_iter()
            .map(str::to_string)
            .collect();
        set.extend(
            g.objects
                .keys()
                .filter(|(_, ns, _)| !ns.is_empty())
                .map(|(_, ns, _)| ns.clone()),
        );
        set.into_iter().collect()
    }

    /// The newest resourceVersion handed out.
    pub fn current_rv(&self) -> String {
        self.lock().rv.to_string()
    }

    /// Whether a list or continue token made at `rv` can still be served (not compacted).
    pub(crate) fn rv_available(&self, rv: &str) -> bool {
        rv.parse::<u64>()
            .is_ok_and(|rv| rv >= self.lock().compacted)
    }

    /// Create as the API server would: fills uid, resourceVersion, creationTimestamp,
    /// generation (1), apiVersion/kind; 409 AlreadyExists if present.
    pub fn create(&self, r: Resource, obj: Value) -> Result<Value, ApiError> {
        self.create_opts(r, obj, false)
    }

    /// [`Store::create`] as if it had happened at `at` (seeding the incident's past: the
    /// objects' ages then read as they would on a real cluster).
    pub fn create_at(
        &self,
        r: Resource,
        obj: Value,
        at: jiff::Timestamp,
    ) -> Result<Value, ApiError> {
        let created = at.round(jiff::Unit::Second).unwrap_or(at).to_string();
        self.create_inner(r, obj, false, Some(created))
    }

    /// [`Store::create`] with `dry_run`: the would-be object, nothing stored, no event.
    pub(crate) fn create_opts(
        &self,
        r: Resource,
        obj: Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        self.create_inner(r, obj, dry_run, None)
    }

    fn create_inner(
        &self,
        r: Resource,
        mut obj: Value,
        dry_run: bool,
        created: Option<String>,
    ) -> Result<Value, ApiError> {
        let mut g = self.lock();
        let meta = ensure_metadata(&mut obj)?;
        let mut name = meta
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if name.is_empty() {
            let prefix = meta
                .get("generateName")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if prefix.is_empty() {
                return Err(ApiError::new(
                    422,
                    "Invalid",
                    format!(
                        "{} \"\" is invalid: metadata.name: Required value: name or generateName is required",
                        r.kind()
                    ),
                )
                .with_target(r, ""));
            }
            name = loop {
                let candidate = format!("{prefix}{}", random_suffix());
                let taken = g
                    .objects
                    .keys()
                    .any(|(res, _, n)| *res == r && *n == candidate);
                if !taken {
                    break candidate;
                }
            };
        }
        let ns = if r.namespaced() {
            meta.get("namespace")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .unwrap_or("default")
                .to_string()
        } else {
            String::new()
        };
        let key = (r, ns.clone(), name.clone());
        if g.objects.contains_key(&key) {
            return Err(ApiError::already_exists(r, &name));
        }
        meta.insert("name".into(), Value::String(name));
        if r.namespaced() {
            meta.insert("namespace".into(), Value::String(ns));
        } else {
            meta.remove("namespace");
        }
        meta.insert("uid".into(), Value::String(new_uid()));
        meta.insert(
            "creationTimestamp".into(),
            Value::String(created.unwrap_or_else(now_rfc3339)),
        );
        meta.insert("generation".into(), Value::from(1));
        meta.remove("deletionTimestamp");
        if let Some(map) = obj.as_object_mut() {
            map.insert("apiVersion".into(), Value::String(r.api_version()));
            map.insert("kind".into(), Value::String(r.kind().into()));
        }
        normalise(self.operator, r, &mut obj);
        if dry_run {
            return Ok(obj);
        }
        let rv = g.next_rv();
        obj["metadata"]["resourceVersion"] = Value::String(rv.to_string());
        g.objects.insert(key, obj.clone());
        let change = Change {
            resource: r,
            change: ChangeType::Added,
            object: obj.clone(),
        };
        g.record(&self.tx, rv, change, None);
        Ok(obj)
    }

    /// A controller's write (the twin's): applies `f` to a copy of the object, spec and
    /// status alike. No change → no new resourceVersion and no event. Bumps `generation`
    /// when `spec` changed. 404 if absent.
    pub fn modify(
        &self,
        r: Resource,
        ns: &str,
        name: &str,
        f: impl FnOnce(&mut Value),
    ) -> Result<Value, ApiError> {
        let mut g = self.lock();
        let (key, old) = g.current(r, ns, name, None)?;
        let mut new = old.clone();
        f(&mut new);
        self.commit(&mut g, r, key, old, new, false)
    }

    /// The API server's write path: replace the object by `new` (whole object; the caller
    /// has already dealt with status/spec separation). Identity metadata is kept from the
    /// stored object; a stale `precondition` is 409 Conflict.
    pub fn update(
        &self,
        r: Resource,
        ns: &str,
        name: &str,
        new: Value,
        opts: &UpdateOptions,
    ) -> Result<Value, ApiError> {
        let mut g = self.lock();
        let (key, old) = g.current(r, ns, name, opts.precondition.as_deref())?;
        self.commit(&mut g, r, key, old, new, opts.dry_run)
    }

    fn commit(
        &self,
        g: &mut Inner,
        r: Resource,
        key: Key,
        old: Value,
        mut new: Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let meta = ensure_metadata(&mut new)?;
        for field in [
            "name",
            "namespace",
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "resourceVersion",
        ] {
            match old.get("metadata").and_then(|m| m.get(field)) {
                Some(v) => meta.insert(field.into(), v.clone()),
                None => meta.remove(field),
            };
        }
        if let Some(map) = new.as_object_mut() {
            map.insert("apiVersion".into(), Value::String(r.api_version()));
            map.insert("kind".into(), Value::String(r.kind().into()));
        }
        normalise(self.operator, r, &mut new);
        if new == old {
            return Ok(old);
        }
        if new.get("spec") != old.get("spec") {
            let generation = old
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            new["metadata"]["generation"] = Value::from(generation + 1);
        }
        if dry_run {
            return Ok(new);
        }
        let rv = g.next_rv();
        new["metadata"]["resourceVersion"] = Value::String(rv.to_string());
        let deleting = new.pointer("/metadata/deletionTimestamp").is_some();
        if deleting && !has_finalizers(&new) {
            g.objects.remove(&key);
            if r == Resource::Pods {
                g.logs.forget_pod(&key.1, &key.2);
            }
            let change = Change {
                resource: r,
                change: ChangeType::Deleted,
                object: new.clone(),
            };
            g.record(&self.tx, rv, change, Some(old));
            return Ok(new);
        }
        g.objects.insert(key, new.clone());
        let change = Change {
            resource: r,
            change: ChangeType::Modified,
            object: new.clone(),
        };
        g.record(&self.tx, rv, change, Some(old));
        Ok(new)
    }

    /// Delete; with finalizers only sets deletionTimestamp (MODIFIED) until they are empty.
    pub fn delete(&self, r: Resource, ns: &str, name: &str) -> Result<Value, ApiError> {
        self.delete_opts(r, ns, name, &UpdateOptions::default())
    }

    /// [`Store::delete`] with a resourceVersion precondition and dry run.
    pub(crate) fn delete_opts(
        &self,
        r: Resource,
        ns: &str,
        name: &str,
        opts: &UpdateOptions,
    ) -> Result<Value, ApiError> {
        let mut g = self.lock();
        let (key, old) = g.current(r, ns, name, opts.precondition.as_deref())?;
        if has_finalizers(&old) {
            if old.pointer("/metadata/deletionTimestamp").is_some() {
                return Ok(old);
            }
            let mut new = old.clone();
            new["metadata"]["deletionTimestamp"] = Value::String(now_rfc3339());
            new["metadata"]["deletionGracePeriodSeconds"] = Value::from(0);
            if opts.dry_run {
                return Ok(new);
            }
            let rv = g.next_rv();
            new["metadata"]["resourceVersion"] = Value::String(rv.to_string());
            g.objects.insert(key, new.clone());
            let change = Change {
                resource: r,
                change: ChangeType::Modified,
                object: new.clone(),
            };
            g.record(&self.tx, rv, change, Some(old));
            return Ok(new);
        }
        if opts.dry_run {
            return Ok(old);
        }
        let rv = g.next_rv();
        let mut gone = old.clone();
        gone["metadata"]["resourceVersion"] = Value::String(rv.to_string());
        g.objects.remove(&key);
        if r == Resource::Pods {
            g.logs.forget_pod(ns, name);
        }
        let change = Change {
            resource: r,
            change: ChangeType::Deleted,
            object: gone.clone(),
        };
        g.record(&self.tx, rv, change, Some(old));
        Ok(gone)
    }
}

mod feeds;
mod resource;
pub(crate) use feeds::Transition;

#[cfg(test)]
mod tests;
