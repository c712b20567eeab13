//! The effects the runtime runs off the UI path: a confirmed write (the action executor or
//! a Restore wizard step, journaled as sent), reading the Restore wizard's facts, and the
//! journal writer. Each answers the app with a `SourceEvent`.

use std::path::PathBuf;

use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

use crate::app::msg::{ActionOutcome, SourceEvent, SourceName};
use crate::journal::{self, Entry, Recorder};
use crate::sources::connect::{Connection, explain};
use crate::sources::{actions, restore};

pub(super) type JournalBatch = (PathBuf, Vec<Entry>);

/// A confirmed write for the action executor: the request exactly as confirmed.
pub(super) enum Write {
    Patch(crate::domain::write::ClusterPatch),
    Wizard(crate::domain::restore::Request),
}

/// Where a write's outcome and journal entries go.
pub(super) struct Replies<'a> {
    pub tx: &'a mpsc::Sender<SourceEvent>,
    pub journal: &'a mpsc::Sender<JournalBatch>,
    /// The incident journal (None: not journaled, e.g. no state directory).
    pub path: Option<PathBuf>,
}

/// Run a confirmed write in `tasks`: its requests and responses go to the journal, its
/// outcome back to the app as `SourceEvent::Action`.
pub(super) fn spawn_write(
    tasks: &mut JoinSet<()>,
    conn: &Connection,
    write: Write,
    replies: Replies<'_>,
) {
    let client = conn.client.clone();
    let (tx, journal_tx, path) = (replies.tx.clone(), replies.journal.clone(), replies.path);
    tasks.spawn(async move {
        let mut rec = Recorder::default();
        let outcome = match write {
            Write::Patch(patch) => actions::send(&client, &patch, &mut rec).await,
            Write::Wizard(request) => restore::send(&client, &request, &mut rec).await,
        };
        if let Some(path) = path {
            // The request is on its way to the writer before the outcome is shown.
            let _ = journal_tx.send((path, rec.entries)).await;
        }
        let _ = tx.send(SourceEvent::Action(outcome)).await;
    });
}

/// Read what the Restore wizard needs (reads only); the answer is `RestoreFacts`, or a
/// failed action saying why.
pub(super) fn spawn_restore_facts(
    conn: &Connection,
    cluster: &str,
    tx: &mpsc::Sender<SourceEvent>,
) -> JoinHandle<()> {
    let (client, ns, name, tx) = (
        conn.client.clone(),
        conn.namespace.clone(),
        cluster.to_string(),
        tx.clone(),
    );
    tokio::spawn(async move {
        let ev = match restore::facts(&client, &ns, &name).await {
            Ok((facts, key)) => SourceEvent::RestoreFacts { facts, key },
            Err(e) => SourceEvent::Action(ActionOutcome::Failed {
                status: None,
                message: format!("cannot read the restore facts: {}", explain(&e)),
            }),
        };
        let _ = tx.send(ev).await;
    })
}

/// The journal writer: appends batches in order on a blocking thread, off the UI path;
/// a write error becomes a `journal` problem the console shows. It ends once every sender
/// is gone and the queue is written.
pub(super) fn spawn_journal_writer(
    tx: mpsc::Sender<SourceEvent>,
) -> (mpsc::Sender<JournalBatch>, JoinHandle<()>) {
    let (jtx, mut jrx) = mpsc::channel::<JournalBatch>(256);
    let writer = tokio::spawn(async move {
        while let Some((path, entries)) = jrx.recv().await {
            let written =
                tokio::task::spawn_blocking(move || journal::append(&path, &entries)).await;
            let message = match written {
                Ok(Ok(())) => continue,
                Ok(Err(e)) => e.to_string(),
                Err(e) => format!("journal writer failed: {e}"),
            };
            // The console may be gone (shutdown); the entry is lost either way.
            let _ = tx.try_send(SourceEvent::Problem {
                source: SourceName::Journal,
                message,
            });
        }
    });
    (jtx, writer)
}
