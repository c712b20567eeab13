//! Break glass elsewhere: a watch over the OpenBaoClusters of the scope the console was
//! opened on (the namespace, or every namespace with `-A`), reporting the ones other than
//! the open cluster that are in break glass (`domain::discovery` judges the rows).
//!
//! At 3 a.m. a second cluster breaking during the same maintenance window is easy to miss
//! while the console is busy with the first. The watch is optional: a 403 (no `list`/`watch`
//! on `openbaoclusters.openbao.org` in the scope), a 404 (the CRD not served) or a 401 turns
//! it off with one `ScopeEvent::Off` carrying which ([`ScopeOff`]: the header notes it at low
//! priority, the help says it whole), never a banner; other errors are retried with
//! kube-rs's backoff.

use futures::StreamExt;
use kube::Client;
use kube::api::{Api, DynamicObject};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::connect::Connection;
use super::discover::row;
use super::watch::{WATCH_TIMEOUT_SECS, Watch, cluster_resource, is_unauthenticated};
use super::{SourceEvent, SourceName};
use crate::app::msg::ScopeEvent;
use crate::app::scope::ScopeOff;
use crate::domain::discovery::{Scope, others_in_break_glass};

/// Watch the scope of `conn` (its namespace, or all with `-A`) for clusters other than
/// `cluster` (in `conn.namespace`) in break glass. Stops when `tx` is closed.
pub fn spawn(conn: &Connection, cluster: &str, tx: mpsc::Sender<SourceEvent>) -> JoinHandle<()> {
    tokio::spawn(run(
        conn.client.clone(),
        conn.scope(),
        (conn.namespace.clone(), cluster.to_string()),
        tx,
    ))
}

/// The watch itself (see [`spawn`]); `open` is the console's cluster (namespace, name).
pub async fn run(
    client: Client,
    scope: Scope,
    open: (String, String),
    tx: mpsc::Sender<SourceEvent>,
) {
    let resource = cluster_resource();
    let api: Api<DynamicObject> = match &scope {
        Scope::Namespace(ns) => Api::namespaced_with(client, ns, &resource),
        Scope::All => Api::all_with(client, &resource),
    };
    let described = scope.describe();
    let snapshot = |objs: Vec<DynamicObject>| {
        let rows = objs.iter().map(row).collect();
        vec![SourceEvent::Scope(ScopeEvent::Others {
            scope: described.clone(),
            rows: others_in_break_glass(rows, &open.0, &open.1),
        })]
    };
    let config = watcher::Config::default().timeout(WATCH_TIMEOUT_SECS);
    let stream = watcher::watcher(api, config).default_backoff();
    futures::pin_mut!(stream);
    let mut watch = Watch::default();
    // The open cluster's own status changes all the time: only a change of the others is sent.
    let mut last: Option<SourceEvent> = None;
    while let Some(event) = stream.next().await {
        if let Err(e) = &event
            && let Some(reason) = off_reason(e, &scope)
        {
            let off = ScopeEvent::Off {
                scope: described.clone(),
                reason,
            };
            let _ = tx.send(SourceEvent::Scope(off)).await;
            return;
        }
        for out in watch.step(event, &snapshot, SourceName::Scope) {
            if matches!(out, SourceEvent::Scope(_)) {
                if last.as_ref() == Some(&out) {
                    continue;
                }
                last = Some(out.clone());
            }
            if tx.send(out).await.is_err() {
                return;
            }
        }
    }
}

/// Why the watch turns itself off for this error (None: a passing error, retried).
fn off_reason(e: &watcher::Error, scope: &Scope) -> Option<ScopeOff> {
    if is_unauthenticated(e) {
        return Some(ScopeOff::Unauthenticated);
    }
    let forbidden = ScopeOff::Forbidden {
        cluster_wide: matches!(scope, Scope::All),
    };
    let err = match e {
        watcher::Error::InitialListFailed(err)
        | watcher::Error::WatchStartFailed(err)
        | watcher::Error::WatchFailed(err) => err,
        watcher::Error::WatchError(s) if s.code == 403 => return Some(forbidden),
        _ => return None,
    };
    match err {
        kube::Error::Api(s) if s.code == 403 => Some(forbidden),
        kube::Error::Api(s) if s.code == 404 => Some(ScopeOff::NotServed),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(kube::core::Status {
            code,
            message: format!("status {code}"),
            ..Default::default()
        }))
    }

    #[test]
    fn each_status_turns_the_watch_off_for_its_own_reason() {
        let all = Scope::All;
        let ns = Scope::Namespace("security".into());
        let list = |code| watcher::Error::InitialListFailed(api(code));
        assert_eq!(
            off_reason(&list(401), &all),
            Some(ScopeOff::Unauthenticated)
        );
        assert_eq!(
            off_reason(&list(403), &all),
            Some(ScopeOff::Forbidden { cluster_wide: true })
        );
        assert_eq!(
            off_reason(&list(403), &ns),
            Some(ScopeOff::Forbidden {
                cluster_wide: false
            })
        );
        assert_eq!(off_reason(&list(404), &ns), Some(ScopeOff::NotServed));
        let started = watcher::Error::WatchStartFailed(api(403));
        assert_eq!(
            off_reason(&started, &all),
            Some(ScopeOff::Forbidden { cluster_wide: true })
        );
        // Passing trouble is retried, not turned off.
        assert_eq!(off_reason(&list(500), &all), None);
        assert_eq!(off_reason(&list(429), &all), None);
    }
}
