//! `GET /api/v1/namespaces/{ns}/pods/{pod}/log`: container logs from the store's log
//! book as `text/plain`, in chunks that do not line up with lines; `follow=true` streams
//! until the container terminates. Parameter checks and error texts follow the real API
//! server and kubelet (`pkg/registry/core/pod/rest/log.go`).

use bytes::Bytes;
use jiff::Timestamp;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::error::ApiError;
use super::podlog::LogLine;
use super::select::Query;
use super::server::{Ctx, Resp, Target, error_resp};
use super::store::Resource;
use super::watch::stream_resp;

/// Chunk sizes cycled through, so chunk boundaries fall anywhere in a line.
const CHUNKS: [usize; 4] = [7, 23, 61, 131];

struct Opts {
    container: String,
    follow: bool,
    timestamps: bool,
    since: Option<Timestamp>,
    tail: Option<usize>,
    previous: bool,
    limit_bytes: Option<usize>,
}

fn invalid_opts(pod: &str, field: &str, msg: &str) -> ApiError {
    let mut e = ApiError::new(
        422,
        "Invalid",
        format!("PodLogOptions \"{pod}\" is invalid: {field}: {msg}"),
    );
    e.details = Some(json!({"name": pod, "kind": "PodLogOptions", "causes": [
        {"reason": "FieldValueForbidden", "message": msg, "field": field}
    ]}));
    e
}

fn container_status<'a>(pod: &'a Value, c: &str) -> Option<&'a Value> {
    pod.pointer("/status/containerStatuses")?
        .as_array()?
        .iter()
        .find(|s| s.get("name").and_then(Value::as_str) == Some(c))
}

fn options(pod: &Value, name: &str, q: &Query) -> Result<Opts, ApiError> {
    if q.get("sinceTime").is_some() && q.get("sinceSeconds").is_some() {
        return Err(invalid_opts(
            name,
            "sinceSeconds",
            "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified",
        ));
    }
    let since = match (q.get("sinceTime"), q.number("sinceSeconds")?) {
        (Some(t), _) => Some(t.parse::<Timestamp>().map_err(|_| {
            ApiError::bad_request(format!("invalid sinceTime {t:?}: want RFC3339"))
        })?),
        (None, Some(s)) if s < 1 => {
            return Err(invalid_opts(
                name,
                "sinceSeconds",
                "Invalid value: must be greater than 0",
            ));
        }
        (None, Some(s)) => Some(Timestamp::now() - jiff::SignedDuration::from_secs(s)),
        (None, None) => None,
    };
    let names: Vec<String> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let container = match q.get("container").filter(|c| !c.is_empty()) {
        Some(c) if names.iter().any(|n| n == c) => c.to_string(),
        Some(c) => {
            return Err(ApiError::bad_request(format!(
                "container {c} is not valid for pod {name}"
            )));
        }
        None if names.len() == 1 => names[0].clone(),
        None => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                names.join(" ")
            )));
        }
    };
    let tail = q.number("tailLines")?.and_then(|n| usize::try_from(n).ok());
    let limit_bytes = q
        .number("limitBytes")?
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| *n > 0);
    Ok(Opts {
        container,
        follow: q.flag("follow"),
        timestamps: q.flag("timestamps"),
        since,
        tail,
        previous: q.flag("previous"),
        limit_bytes,
    })
}

fn render(lines: &[LogLine], o: &Opts) -> String {
    let mut s = String::new();
    for l in lines.iter().filter(|l| o.since.is_none_or(|t| l.time >= t)) {
        if o.timestamps {
            s.push_str(&l.time.to_string());
            s.push(' ');
        }
        s.push_str(&l.text);
        s.push('\n');
    }
    s
}

/// Sends `text` in uneven chunks; false when the client is gone, the byte limit is hit or
/// the stream was cut (`Controls::close_log_streams`: between two chunks, so usually in the
/// middle of a line, as a dropped connection would).
struct Sender {
    tx: mpsc::Sender<Bytes>,
    turn: usize,
    budget: Option<usize>,
    closer: tokio::sync::watch::Receiver<u64>,
}

impl Sender {
    async fn send(&mut self, text: String) -> bool {
        let mut bytes = Bytes::from(text);
        if let Some(b) = self.budget {
            bytes.truncate(b.min(bytes.len()));
        }
        while !bytes.is_empty() {
            if self.closer.has_changed().unwrap_or(true) {
                return false;
            }
            let n = CHUNKS[self.turn % CHUNKS.len()].min(bytes.len());
            self.turn += 1;
            if self.tx.send(bytes.split_to(n)).await.is_err() {
                return false;
            }
            if let Some(b) = self.budget.as_mut() {
                *b -= n;
            }
        }
        self.budget != Some(0)
    }
}

pub(crate) fn pod_log(ctx: &Ctx, t: &Target, q: &Query) -> Resp {
    match start(ctx, t, q) {
        Ok(r) => r,
        Err(e) => error_resp(&e),
    }
}

fn start(ctx: &Ctx, t: &Target, q: &Query) -> Result<Resp, ApiError> {
    let ns = t.ns.clone().unwrap_or_default();
    let name = t.name.clone().unwrap_or_default();
    if t.r != Resource::Pods {
        return Err(super::server::not_found_path());
    }
    let store = ctx.shared.store.clone();
    let pod = store
        .get(Resource::Pods, &ns, &name)
        .ok_or_else(|| ApiError::not_found(Resource::Pods, &name))?;
    let o = options(&pod, &name, q)?;
    let c = o.container.clone();
    let status = container_status(&pod, &c);
    if o.previous {
        let had = store.has_previous_log(&ns, &name, &c)
            || status.is_some_and(|s| s.pointer("/lastState/terminated").is_some());
        if !had {
            return Err(ApiError::bad_request(format!(
                "previous terminated container \"{c}\" in pod \"{name}\" not found"
            )));
        }
    } else if let Some(reason) = status
        .and_then(|s| s.pointer("/state/waiting/reason"))
        .and_then(Value::as_str)
    {
        return Err(ApiError::bad_request(format!(
            "container \"{c}\" in pod \"{name}\" is waiting to start: {reason}"
        )));
    }
    let status_terminated = status.is_some_and(|s| s.pointer("/state/terminated").is_some());
    let mut changes = store.log_changes();
    changes.borrow_and_update();
    let mut closer = ctx.shared.close_logs.subscribe();
    closer.borrow_and_update();
    let first = store.read_log(&ns, &name, &c, 0, o.previous);
    let mut lines = first.lines;
    if let Some(n) = o.tail {
        let skip = lines.len().saturating_sub(n);
        lines.drain(..skip);
    }
    let (tx, rx) = mpsc::channel::<Bytes>(32);
    let mut sender = Sender {
        tx,
        turn: 0,
        budget: o.limit_bytes,
        closer: closer.clone(),
    };
    let follow = o.follow && !o.previous;
    tokio::spawn(async move {
        if !sender.send(render(&lines, &o)).await {
            return;
        }
        let mut next = first.next;
        let mut done = !follow || first.terminated || status_terminated;
        while !done {
            tokio::select! {
                _ = sender.tx.closed() => return,
                _ = closer.changed() => return,
                changed = changes.changed() => if changed.is_err() { return },
            }
            let r = store.read_log(&ns, &name, &c, next, false);
            next = r.next;
            if !sender.send(render(&r.lines, &o)).await {
                return;
            }
            done = r.terminated || store.get(Resource::Pods, &ns, &name).is_none();
        }
    });
    Ok(stream_resp("text/plain", rx))
}
