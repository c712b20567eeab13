//! Watches (`?watch=true`): newline-delimited JSON events streamed from the store's
//! history and live changes (apiserver's `pkg/endpoints/handlers/watch.go`). A resourceVersion older than the
//! history is answered HTTP 200 and one in-stream ERROR event (Status 410 Expired), the
//! only form kube-rs re-lists on. Frames are deliberately split across chunks.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;

use super::error::ApiError;
use super::select::{FieldSelector, LabelSelector, Query};
use super::server::{Ctx, Resp, Target, error_resp, full};
use super::store::{ChangeType, Resource, Transition};
use super::table;

/// A streamed response fed by `rx`.
pub(crate) fn stream_resp(content_type: &str, rx: mpsc::Receiver<Bytes>) -> Resp {
    let stream = ReceiverStream::new(rx).map(|b| Ok::<_, std::convert::Infallible>(Frame::data(b)));
    let mut r = hyper::Response::new(StreamBody::new(stream).boxed());
    if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

/// Send one frame in two chunks, so clients must reassemble lines. False: client gone.
async fn send_split(tx: &mpsc::Sender<Bytes>, line: String) -> bool {
    let bytes = Bytes::from(line);
    let mid = bytes.len() / 2;
    tx.send(bytes.slice(..mid)).await.is_ok() && tx.send(bytes.slice(mid..)).await.is_ok()
}

fn event(kind: &str, object: &Value) -> String {
    let mut s = json!({"type": kind, "object": object}).to_string();
    s.push('\n');
    s
}

fn bookmark(r: Resource, rv: u64, initial_end: bool) -> String {
    let mut meta = json!({"resourceVersion": rv.to_string(), "creationTimestamp": null});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    event(
        "BOOKMARK",
        &json!({"kind": r.kind(), "apiVersion": r.api_version(), "metadata": meta}),
    )
}

fn type_name(c: ChangeType) -> &'static str {
    match c {
        ChangeType::Added => "ADDED",
        ChangeType::Modified => "MODIFIED",
        ChangeType::Deleted => "DELETED",
    }
}

struct Filter {
    r: Resource,
    /// Send each object as a one-row Table (`kubectl get -w`).
    as_table: bool,
    ns: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn selects(&self, obj: &Value) -> bool {
        self.labels.matches(obj) && self.fields.matches(obj)
    }

    /// The event this watch sends for a transition, if any: an object that starts
    /// matching the selectors is ADDED, one that stops matching is DELETED.
    fn event(&self, t: &Transition) -> Option<String> {
        let c = &t.change;
        let ns = c
            .object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str);
        if c.resource != self.r || self.ns.as_deref().is_some_and(|want| ns != Some(want)) {
            return None;
        }
        let now = self.selects(&c.object);
        let before = t.prev.as_ref().is_some_and(|p| self.selects(p));
        let kind = match c.change {
            ChangeType::Added if now => ChangeType::Added,
            ChangeType::Modified if now && before => ChangeType::Modified,
            ChangeType::Modified if now => ChangeType::Added,
            ChangeType::Modified if before => ChangeType::Deleted,
            ChangeType::Deleted if now || before => ChangeType::Deleted,
            _ => return None,
        };
        if self.as_table {
            let rv = c
                .object
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .unwrap_or("");
            let t = table::table(self.r, std::slice::from_ref(&c.object), rv);
            return Some(event(type_name(kind), &t));
        }
        Some(event(type_name(kind), &c.object))
    }
}

fn rv_num(v: &Value) -> Option<u64> {
    v.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
}

pub(crate) async fn watch(ctx: &Ctx, t: &Target, q: &Query, as_table: bool) -> Resp {
    let filter = match (
        LabelSelector::parse(q.get("labelSelector").unwrap_or("")),
        FieldSelector::parse(q.get("fieldSelector").unwrap_or(""), t.r),
    ) {
        (Ok(labels), Ok(fields)) => Filter {
            r: t.r,
            as_table,
            ns: t.ns.clone(),
            labels,
            fields,
        },
        (Err(e), _) | (_, Err(e)) => return error_resp(&e),
    };
    let timeout = match q.number("timeoutSeconds") {
        Ok(t) => Duration::from_secs(t.and_then(|t| u64::try_from(t).ok()).unwrap_or(1800)),
        Err(e) => return error_resp(&e),
    };
    let bookmarks = q.flag("allowWatchBookmarks");
    let initial = q.flag("sendInitialEvents");
    let rv = if initial {
        None
    } else {
        q.get("resourceVersion")
    };
    let feed = match ctx.store().watch(t.r, t.ns.as_deref(), rv) {
        Ok(f) => f,
        Err(e) if e.code == 410 => {
            return full(200, "application/json", event("ERROR", &e.to_status()));
        }
        Err(e) => return error_resp(&e),
    };
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let interval = ctx.shared.bookmark_interval();
    let mut closer = ctx.shared.close_watches.subscribe();
    closer.borrow_and_update();
    tokio::spawn(async move {
        let mut live = feed.rx;
        let mut last_rv = feed.start_rv;
        for line in feed.backlog.iter().filter_map(|t| filter.event(t)) {
            if !send_split(&tx, line).await {
                return;
            }
        }
        if initial && !send_split(&tx, bookmark(filter.r, last_rv, true)).await {
            return;
        }
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        loop {
            tokio::select! {
                _ = tx.closed() => break,
                _ = &mut deadline => break,
                _ = closer.changed() => break,
                msg = live.recv() => match msg {
                    Ok(t) => {
                        last_rv = rv_num(&t.change.object).unwrap_or(last_rv).max(last_rv);
                        if let Some(line) = filter.event(&t)
                            && !send_split(&tx, line).await
                        {
                            break;
                        }
                    }
                    // Too slow to keep up: end the stream; the client re-watches from
                    // its last resourceVersion (or re-lists on 410).
                    Err(broadcast::error::RecvError::Lagged(_)) => break,
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = tick.tick(), if bookmarks => {
                    if !send_split(&tx, bookmark(filter.r, last_rv, false)).await {
                        break;
                    }
                }
            }
        }
    });
    stream_resp("application/json", rx)
}

/// The in-stream ERROR frame for an expired resourceVersion (exposed for tests).
pub(crate) fn expired_frame(e: &ApiError) -> String {
    event("ERROR", &e.to_status())
}
