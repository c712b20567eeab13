//! Following the OpenBaoRestore the wizard created: a kube-rs watcher on the object (its
//! `status.phase`/`status.message`), one on its Job `restore-<name>`, and the log follower
//! (`logfollow::spawn_one`) on the Job's `restore` container. Everything goes through the
//! kubeconfig's API server like every other read; what is seen arrives as
//! [`SourceEvent::Restore`], trouble as `Problem`/`Recovered` of [`SourceName::Restore`].

use k8s_openapi::api::batch::v1::Job;
use kube::Client;
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::task::AbortOnDropHandle;

use super::logfollow::{self, FollowOptions};
use super::restore::restore_resource;
use super::watch::run;
use super::{RestoreEvent, SourceEvent, SourceName};
use crate::domain::JobView;
use crate::domain::restore_status::{RESTORE_CONTAINER, RestoreStatus, restore_job_name};

/// Start following restore `name`; everything stops when `tx` closes or the handle is aborted.
pub fn spawn(
    client: Client,
    namespace: String,
    name: String,
    tx: mpsc::Sender<SourceEvent>,
    opts: FollowOptions,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let job = restore_job_name(&name);
        let restores: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), &namespace, &restore_resource());
        let status = tokio::spawn(run(
            restores,
            watcher::Config::default().fields(&format!("metadata.name={name}")),
            SourceName::Restore,
            tx.clone(),
            |objs: Vec<DynamicObject>| {
                let status = objs
                    .first()
                    .and_then(|o| serde_json::to_value(o).ok())
                    .map(|v| RestoreStatus::from_json(&v));
                vec![SourceEvent::Restore(RestoreEvent::Status(status))]
            },
        ));
        // The Job watcher feeds the log follower (never the app's Jobs, which are the
        // upgrade Jobs); the follower's events are translated for the app.
        let (inner_tx, mut inner_rx) = mpsc::channel::<SourceEvent>(256);
        let (jobs_tx, jobs_rx) = watch::channel(Vec::<JobView>::new());
        let jobs: Api<Job> = Api::namespaced(client.clone(), &namespace);
        let job_watch = tokio::spawn(run(
            jobs,
            watcher::Config::default().fields(&format!("metadata.name={job}")),
            SourceName::Restore,
            inner_tx.clone(),
            |objs: Vec<Job>| {
                vec![SourceEvent::Jobs(
                    objs.iter().map(JobView::from_job).collect(),
                )]
            },
        ));
        let logs = logfollow::spawn_one(
            client,
            namespace,
            (job, RESTORE_CONTAINER),
            jobs_rx,
            inner_tx,
            opts,
        );
        // The follower's tasks end with it.
        let _abort = [status, job_watch, logs].map(AbortOnDropHandle::new);
        while let Some(ev) = inner_rx.recv().await {
            let out = match ev {
                SourceEvent::Jobs(list) => {
                    jobs_tx.send_replace(list);
                    continue;
                }
                SourceEvent::LogLines { lines, .. } => {
                    SourceEvent::Restore(RestoreEvent::Lines(lines))
                }
                SourceEvent::LogGap {
                    last_seen,
                    first_after,
                    ..
                } => SourceEvent::Restore(RestoreEvent::Gap(format!(
                    "── GAP: the server no longer has lines between {last_seen} and {first_after} ──"
                ))),
                SourceEvent::LogEnded { .. } => SourceEvent::Restore(RestoreEvent::LogEnded),
                SourceEvent::Problem { message, .. } => SourceEvent::Problem {
                    source: SourceName::Restore,
                    message,
                },
                SourceEvent::Recovered { .. } => SourceEvent::Recovered {
                    source: SourceName::Restore,
                },
                _ => continue,
            };
            if tx.send(out).await.is_err() {
                return;
            }
        }
    })
}
