//! The console's sources, owned by the runtime: the watchers (with the API server's liveness
//! probe), the log follower, the Raft poller, the RBAC preflight, the operator reader, the
//! Events watcher and at most one restore follower. Each task is held as an
//! [`AbortOnDropHandle`], so dropping [`Sources`] stops every one of them; replacing the
//! restore follower stops the previous one.

use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::task::AbortOnDropHandle;

use crate::app::msg::{SourceEvent, SourceName};
use crate::domain::JobView;
use crate::sources::connect::{Connection, explain};
use crate::sources::logfollow::FollowOptions;
use crate::sources::openbao_http::NodeAccess;
use crate::sources::{events, logfollow, operator, raft, rbac, restore_follow, watch as watchers};

const RAFT_INTERVAL: Duration = raft::FAST_INTERVAL;

/// One task slot: a new task replaces (and so stops) the one before it.
#[derive(Default)]
pub(super) struct Slot(Option<AbortOnDropHandle<()>>);

impl Slot {
    pub(super) fn replace(&mut self, task: JoinHandle<()>) {
        // The old handle is dropped here, which aborts its task.
        self.0 = Some(AbortOnDropHandle::new(task));
    }

    pub(super) fn is_running(&self) -> bool {
        self.0.as_ref().is_some_and(|h| !h.is_finished())
    }
}

pub(super) struct Sources {
    tasks: Vec<AbortOnDropHandle<()>>,
    /// The rollback Jobs the log follower streams (see `Runtime::step`).
    pub(super) jobs: watch::Sender<Vec<JobView>>,
    /// The OpenBaoRestore the wizard created, followed (one at a time).
    pub(super) restore: Slot,
}

impl Sources {
    /// Start every source of the console on `cluster`; their events go to `tx`.
    pub(super) fn start(
        conn: &Connection,
        access: NodeAccess,
        cluster: &str,
        tx: &mpsc::Sender<SourceEvent>,
        follow: FollowOptions,
    ) -> Sources {
        let mut handles = watchers::spawn_live(conn, cluster, tx.clone());
        let (jobs, jobs_rx) = watch::channel(Vec::new());
        handles.push(logfollow::spawn_with(
            conn.client.clone(),
            conn.namespace.clone(),
            jobs_rx,
            tx.clone(),
            follow,
        ));
        handles.push(raft::spawn(
            conn.client.clone(),
            access,
            conn.namespace.clone(),
            cluster.to_string(),
            RAFT_INTERVAL,
            tx.clone(),
        ));
        handles.push(spawn_preflight(conn, tx.clone()));
        handles.push(crate::sources::scope_watch::spawn(
            conn,
            cluster,
            tx.clone(),
        ));
        handles.push(operator::spawn(
            conn.client.clone(),
            conn.namespace.clone(),
            tx.clone(),
        ));
        handles.push(events::spawn(
            &conn.client,
            &conn.namespace,
            cluster,
            tx.clone(),
        ));
        Sources {
            tasks: handles.into_iter().map(AbortOnDropHandle::new).collect(),
            jobs,
            restore: Slot::default(),
        }
    }

    /// Follow the OpenBaoRestore `name`, replacing any restore followed before.
    pub(super) fn follow_restore(
        &mut self,
        conn: &Connection,
        (namespace, name): (String, String),
        tx: &mpsc::Sender<SourceEvent>,
        follow: FollowOptions,
    ) {
        self.restore.replace(restore_follow::spawn(
            conn.client.clone(),
            namespace,
            name,
            tx.clone(),
            follow,
        ));
    }

    /// Point the log follower at `followed` (the current operation's rollback Jobs); it is
    /// woken only when the list changed.
    pub(super) fn follow_jobs(&self, followed: Vec<JobView>) {
        self.jobs.send_if_modified(|jobs| {
            let changed = *jobs != followed;
            if changed {
                *jobs = followed;
            }
            changed
        });
    }

    /// How many of the long-running sources still run (a source never exits on errors).
    pub(super) fn running(&self) -> usize {
        self.tasks.iter().filter(|t| !t.is_finished()).count()
    }
}

/// Start the RBAC preflight (and identity) once; its answer arrives as `SourceEvent::Rbac`.
fn spawn_preflight(conn: &Connection, tx: mpsc::Sender<SourceEvent>) -> JoinHandle<()> {
    let (client, ns, user) = (
        conn.client.clone(),
        conn.namespace.clone(),
        conn.user.clone(),
    );
    tokio::spawn(async move {
        let identity = rbac::identity(&client, &user).await;
        let ev = match rbac::preflight(&client, &ns).await {
            Ok(denied) => SourceEvent::Rbac(rbac::Preflight { identity, denied }),
            Err(e) => SourceEvent::Problem {
                source: SourceName::Rbac,
                message: format!("RBAC preflight failed: {}", explain(&e)),
            },
        };
        let _ = tx.send(ev).await;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_new_task_in_a_slot_stops_the_one_before_it() {
        let mut slot = Slot::default();
        assert!(!slot.is_running());
        let first = tokio::spawn(std::future::pending::<()>());
        let first_abort = first.abort_handle();
        slot.replace(first);
        assert!(slot.is_running());
        let second = tokio::spawn(std::future::pending::<()>());
        let second_abort = second.abort_handle();
        slot.replace(second);
        // Let the aborted task be reaped.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(
            first_abort.is_finished(),
            "the replaced follower still runs"
        );
        assert!(!second_abort.is_finished());
        assert!(slot.is_running());
        drop(slot);
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(
            second_abort.is_finished(),
            "dropping the slot stops its task"
        );
    }
}
