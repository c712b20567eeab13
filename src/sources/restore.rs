//! The Restore wizard's I/O: reading what it needs (the cluster's backup target, the
//! snapshot key, the operator Deployment by its labels, the exact PVCs) and sending one
//! confirmed [`Request`] with a server-side dry run first, every request journaled.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, LogParams, Patch, PatchParams};
use serde_json::Value;

use super::ActionOutcome;
use super::connect::explain;
use super::watch::cluster_resource;
use crate::domain::incident::{LABEL_CLUSTER, LABEL_JOB_NAME};
use crate::domain::restore::{Facts, Operator, Request, key_from_log};
use crate::domain::restore_status::RestoreStatus;
use crate::domain::write::{Refusal, guard};
use crate::journal::Recorder;

/// The labels the operator's controller Deployment carries (dc-tec/openbao-operator@002fbdd `cmd/controller/run.go`, `dist/install.yaml`).
pub(crate) const OPERATOR_SELECTOR: &str =
    "app.kubernetes.io/name=openbao-operator,app.kubernetes.io/component=controller";

/// What the wizard opens with, and where the snapshot key came from.
pub async fn facts(
    client: &Client,
    namespace: &str,
    cluster: &str,
) -> Result<(Facts, Option<(String, String)>), kube::Error> {
    let clusters: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &cluster_resource());
    let raw = serde_json::to_value(clusters.get(cluster).await?).unwrap_or(Value::Null);
    let str_at = |p: &str| {
        raw.pointer(p)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let deployments: Api<Deployment> = Api::all(client.clone());
    let operator = deployments
        .list(&ListParams::default().labels(OPERATOR_SELECTOR))
        .await?
        .items
        .into_iter()
        .next()
        .map(|d| Operator {
            namespace: d.metadata.namespace.unwrap_or_default(),
            name: d.metadata.name.unwrap_or_default(),
            replicas: d.spec.and_then(|s| s.replicas).unwrap_or(1),
        });
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), namespace);
    let mut pvcs: Vec<String> = pvcs
        .list(&ListParams::default().labels(&format!("{LABEL_CLUSTER}={cluster}")))
        .await?
        .items
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    pvcs.sort();
    let key = match snapshot_key_from_job(client, namespace, &raw).await {
        Some(k) => Some((k, "pre-upgrade snapshot Job log".to_string())),
        None => raw
            .pointer("/status/backup/lastBackupName")
            .and_then(Value::as_str)
            .map(|k| (k.to_string(), "status.backup.lastBackupName".to_string())),
    };
    Ok((
        Facts {
            namespace: namespace.into(),
            cluster: cluster.into(),
            backup: raw.pointer("/spec/backup").cloned(),
            operator,
            pvcs,
            // The app sets the detected line when the facts arrive (wizard_flow::on_facts).
            line: crate::domain::generation::Line::Unknown,
            restore_role: str_at("/spec/restore/jwtAuthRole"),
            blue_revision: str_at("/status/blueGreen/blueRevision"),
        },
        key,
    ))
}

/// `Backup completed successfully: <key>` from the pre-upgrade snapshot Job's pod, if the
/// Job (TTL 1 h) and its pod still exist.
async fn snapshot_key_from_job(client: &Client, namespace: &str, raw: &Value) -> Option<String> {
    let job = raw
        .pointer("/status/blueGreen/preUpgradeSnapshotJobName")
        .and_then(Value::as_str)?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let list = pods
        .list(&ListParams::default().labels(&format!("{LABEL_JOB_NAME}={job}")))
        .await
        .ok()?;
    for pod in list.items {
        let name = pod.metadata.name.unwrap_or_default();
        if let Ok(text) = pods.logs(&name, &LogParams::default()).await
            && let Some(k) = text.lines().find_map(key_from_log)
        {
            return Some(k);
        }
    }
    None
}

fn failed(rec: &mut Recorder, e: &kube::Error) -> ActionOutcome {
    let (status, message) = match e {
        kube::Error::Api(s) => (Some(s.code), s.message.clone()),
        other => (None, explain(other)),
    };
    rec.response(status.unwrap_or(0), &message);
    ActionOutcome::Failed {
        status,
        message: explain(e),
    }
}

/// Send one confirmed wizard request: dry run, then the real one, each with the request's
/// exact body (`Request::body`, the preview's builder).
pub async fn send(client: &Client, req: &Request, rec: &mut Recorder) -> ActionOutcome {
    if let Request::AcknowledgeRestore { .. } = req {
        return acknowledge_restore(client, req, rec).await;
    }
    let (method, path) = req.method_path();
    let body = req.body();
    for dry_run in [true, false] {
        rec.request(method, &path, dry_run, body.as_ref());
        let result = match (req, &body) {
            (
                Request::Scale {
                    namespace, name, ..
                },
                Some(body),
            ) => {
                let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
                let pp = PatchParams {
                    dry_run,
                    ..Default::default()
                };
                api.patch_scale(name, &pp, &Patch::Merge(body))
                    .await
                    .map(|_| ())
            }
            (Request::DeletePvc { namespace, name }, _) => {
                let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), namespace);
                let dp = DeleteParams {
                    dry_run,
                    ..Default::default()
                };
                api.delete(name, &dp).await.map(|_| ())
            }
            // The body's own bytes (a typed object would be re-serialized in another
            // key order): POSTed as the preview shows it.
            (Request::CreateRestore { .. }, Some(body)) => {
                let url = if dry_run {
                    format!("{path}?dryRun=All")
                } else {
                    path.clone()
                };
                match http::Request::post(url)
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(body.to_string().into_bytes())
                {
                    Ok(request) => client.request::<DynamicObject>(request).await.map(|_| ()),
                    Err(e) => {
                        return ActionOutcome::Refused {
                            reason: Refusal::InvalidBody(e.to_string()),
                        };
                    }
                }
            }
            _ => {
                return ActionOutcome::Refused {
                    reason: Refusal::InvalidBody("the request has no body".into()),
                };
            }
        };
        match result {
            Ok(()) => rec.response(200, if dry_run { "dry run accepted" } else { "done" }),
            Err(e) => return failed(rec, &e),
        }
    }
    ActionOutcome::WizardStepDone
}

/// Resume/Abandon an OpenBaoRestore in phase `Unknown`: re-read it, refuse unless it is
/// still Unknown with the confirmed uid, dry run, then the confirmed annotation patch
/// exactly (its resourceVersion is the one the dialog showed: a changed object is a 409).
async fn acknowledge_restore(client: &Client, req: &Request, rec: &mut Recorder) -> ActionOutcome {
    let (
        Request::AcknowledgeRestore {
            namespace,
            name,
            uid,
            ..
        },
        Some(body),
    ) = (req, req.body())
    else {
        return ActionOutcome::Refused {
            reason: Refusal::InvalidBody("not a restore acknowledgement".into()),
        };
    };
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &restore_resource());
    let (method, path) = req.method_path();
    rec.request("GET", &path, false, None);
    let fresh = match api.get(name).await {
        Ok(o) => {
            rec.response(200, "re-read the restore");
            RestoreStatus::from_json(&serde_json::to_value(&o).unwrap_or(Value::Null))
        }
        Err(e) => return failed(rec, &e),
    };
    if let Err(reason) = guard::restore_ack_on(&fresh, name, Some(uid)) {
        return ActionOutcome::Refused { reason };
    }
    for dry_run in [true, false] {
        rec.request(method, &path, dry_run, Some(&body));
        let pp = PatchParams {
            dry_run,
            ..Default::default()
        };
        match api.patch(name, &pp, &Patch::Merge(&body)).await {
            Ok(_) => rec.response(200, if dry_run { "dry run accepted" } else { "done" }),
            Err(e) => return failed(rec, &e),
        }
    }
    ActionOutcome::WizardStepDone
}

pub fn restore_resource() -> kube::api::ApiResource {
    kube::api::ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk("openbao.org", "v1alpha1", "OpenBaoRestore"),
        "openbaorestores",
    )
}
