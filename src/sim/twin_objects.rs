//! Builders for the Kubernetes objects the real operator (and Kubernetes itself) would have
//! left behind in this incident: StatefulSets, OpenBao pods, PVCs, the operator Deployment,
//! executor Jobs and their pods (dc-tec/openbao-operator@002fbdd `internal/upgrade/job.go`, `internal/infra/manager.go`, `dist/install.yaml`; the API server's own Job and pod shapes).
//!
//! Pure functions from a [`Topology`] to JSON. `seed` creates them in the store; `twin`
//! creates and updates Jobs/pods with them as the incident unfolds. The OpenBaoCluster itself
//! is built in `twin_cluster`.

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::operator_line::OperatorLine;
use super::scenario::{OPERATOR_DEPLOYMENT, OPERATOR_NAMESPACE, Topology};

pub(crate) const OPENBAO_CONTAINER: &str = "openbao";
pub const EXECUTOR_CONTAINER: &str = "upgrade-executor";
pub(crate) const BACKUP_CONTAINER: &str = "backup";

pub fn ts(t: Timestamp) -> String {
    t.round(jiff::Unit::Second).unwrap_or(t).to_string()
}

/// The four labels on everything the operator manages for a cluster (`internal/infra/manager.go`,
/// `statefulset_builder.go`).
pub(crate) fn infra_labels(topo: &Topology) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("app.kubernetes.io/name".into(), json!("openbao"));
    m.insert("app.kubernetes.io/instance".into(), json!(topo.cluster));
    m.insert(
        "app.kubernetes.io/managed-by".into(),
        json!("openbao-operator"),
    );
    m.insert("openbao.org/cluster".into(), json!(topo.cluster));
    m
}

fn with(mut m: Map<String, Value>, extra: &[(&str, &str)]) -> Value {
    for (k, v) in extra {
        m.insert((*k).into(), json!(v));
    }
    Value::Object(m)
}

pub(crate) fn owner_ref(api_version: &str, kind: &str, name: &str, uid: &str) -> Value {
    json!({"apiVersion": api_version, "kind": kind, "name": name, "uid": uid,
           "controller": true, "blockOwnerDeletion": true})
}

/// `<cluster>-<rev>`: no revision label on the StatefulSet itself, OnDelete updates.
pub fn statefulset(topo: &Topology, blue: bool, cluster_uid: &str, ready: i32) -> Value {
    let rev = topo.rev(blue);
    let name = topo.statefulset(blue);
    let image = if blue {
        &topo.blue_image
    } else {
        &topo.green_image
    };
    let selector = with(infra_labels(topo), &[("openbao.org/revision", rev)]);
    json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {
            "name": name, "namespace": topo.namespace,
            "labels": Value::Object(infra_labels(topo)),
            "ownerReferences": [owner_ref("openbao.org/v1alpha1", "OpenBaoCluster", &topo.cluster, cluster_uid)],
        },
        "spec": {
            "replicas": topo.replicas,
            "serviceName": topo.cluster,
            "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "OnDelete"},
            "selector": {"matchLabels": selector.clone()},
            "template": {
                "metadata": {"labels": selector},
                "spec": {
                    "serviceAccountName": format!("{}-serviceaccount", topo.cluster),
                    "containers": [{"name": OPENBAO_CONTAINER, "image": image,
                        "ports": [{"name": "api", "containerPort": 8200}, {"name": "cluster", "containerPort": 8201}]}],
                },
            },
            "volumeClaimTemplates": [{
                "metadata": {"name": "data", "labels": Value::Object(infra_labels(topo))},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}},
            }],
        },
        "status": statefulset_status(topo, &name, ready),
    })
}

pub(crate) fn statefulset_status(topo: &Topology, name: &str, ready: i32) -> Value {
    json!({
        "replicas": topo.replicas, "readyReplicas": ready, "currentReplicas": topo.replicas,
        "updatedReplicas": topo.replicas, "availableReplicas": ready,
        "currentRevision": format!("{name}-7d9c5b6f4"), "updateRevision": format!("{name}-7d9c5b6f4"),
        "observedGeneration": 1, "collisionCount": 0,
    })
}

/// What OpenBao's service registration and the kubelet say about one OpenBao pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NodeLabels {
    pub active: bool,
    pub sealed: bool,
    /// Some(restarts): the container is in CrashLoopBackOff.
    pub crashloop: Option<i32>,
}

/// `<cluster>-<rev>-<n>` with the infra labels, the revision and OpenBao's own labels.
pub(crate) fn openbao_pod(
    topo: &Topology,
    blue: bool,
    ordinal: i32,
    sts_uid: &str,
    node: NodeLabels,
    started: Timestamp,
) -> Value {
    let name = topo.pod(blue, ordinal);
    let sts = topo.statefulset(blue);
    let (version, image) = if blue {
        (&topo.blue_version, &topo.blue_image)
    } else {
        (&topo.green_version, &topo.green_image)
    };
    let ord = ordinal.to_string();
    let hash = format!("{sts}-7d9c5b6f4");
    let bool_s = |b: bool| if b { "true" } else { "false" };
    let labels = with(
        infra_labels(topo),
        &[
            ("openbao.org/revision", topo.rev(blue)),
            ("controller-revision-hash", &hash),
            ("apps.kubernetes.io/pod-index", &ord),
            ("statefulset.kubernetes.io/pod-name", &name),
            ("openbao-active", bool_s(node.active)),
            ("openbao-sealed", bool_s(node.sealed)),
            ("openbao-initialized", "true"),
            ("openbao-perf-standby", "false"),
            ("openbao-version", version),
        ],
    );
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": topo.namespace, "labels": labels,
            "annotations": {"openbao.org/config-hash": "5f1c2a9e8b7d"},
            "ownerReferences": [owner_ref("apps/v1", "StatefulSet", &sts, sts_uid)],
        },
        "spec": {
            "hostname": name, "subdomain": topo.cluster,
            "serviceAccountName": format!("{}-serviceaccount", topo.cluster),
            "nodeName": format!("worker-{}", ordinal % 3 + 1),
            "initContainers": [{"name": "bao-config-init", "image": image}],
            "containers": [{"name": OPENBAO_CONTAINER, "image": image,
                "command": ["/utils/bao-wrapper"],
                "ports": [{"name": "api", "containerPort": 8200}, {"name": "cluster", "containerPort": 8201}]}],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": topo.pvc(blue, ordinal)}}],
        },
        "status": openbao_pod_status(image, node, started, ordinal),
    })
}

fn condition(type_: &str, status: bool, at: &str) -> Value {
    json!({"type": type_, "status": if status { "True" } else { "False" }, "lastProbeTime": null, "lastTransitionTime": at})
}

pub(crate) fn openbao_pod_status(
    image: &str,
    node: NodeLabels,
    started: Timestamp,
    ordinal: i32,
) -> Value {
    let at = ts(started);
    let ready = node.crashloop.is_none() && !node.sealed;
    let (state, last, restarts) = match node.crashloop {
        None => (json!({"running": {"startedAt": at}}), json!({}), 0),
        Some(n) => (
            json!({"waiting": {"reason": "CrashLoopBackOff",
                "message": format!("back-off 5m0s restarting failed container={OPENBAO_CONTAINER} pod=...")}}),
            json!({"terminated": {"exitCode": 1, "reason": "Error", "startedAt": at, "finishedAt": at}}),
            n,
        ),
    };
    json!({
        "phase": "Running",
        "podIP": format!("10.244.{}.{}", ordinal % 3 + 1, 20 + ordinal),
        "hostIP": format!("172.18.0.{}", ordinal % 3 + 2),
        "qosClass": "Burstable", "startTime": at,
        "conditions": [
            condition("PodReadyToStartContainers", true, &at),
            condition("Initialized", true, &at),
            condition("Ready", ready, &at),
            condition("ContainersReady", ready, &at),
            condition("PodScheduled", true, &at),
        ],
        "initContainerStatuses": [{"name": "bao-config-init", "image": image, "imageID": "", "ready": true,
            "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": at, "finishedAt": at}}}],
        "containerStatuses": [{"name": OPENBAO_CONTAINER, "image": image, "imageID": format!("docker.io/{image}"),
            "containerID": format!("containerd://{:064x}", ordinal + 1),
            "ready": ready, "started": node.crashloop.is_none(), "restartCount": restarts,
            "state": state, "lastState": last}],
    })
}

/// `data-<cluster>-<rev>-<n>`, Bound, held by the pvc-protection finalizer.
pub fn pvc(topo: &Topology, blue: bool, ordinal: i32) -> Value {
    let labels = with(
        infra_labels(topo),
        &[("openbao.org/revision", topo.rev(blue))],
    );
    let name = topo.pvc(blue, ordinal);
    json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": name, "namespace": topo.namespace, "labels": labels,
            "finalizers": ["kubernetes.io/pvc-protection"],
            "annotations": {"pv.kubernetes.io/bind-completed": "yes", "volume.kubernetes.io/storage-provisioner": "rancher.io/local-path"},
        },
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}},
                 "storageClassName": "standard", "volumeMode": "Filesystem",
                 "volumeName": format!("pvc-{}", &crate::domain::naming::revision(&name, "", 0))},
        "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "10Gi"}},
    })
}

/// The Helm-installed controller Deployment (the chart's `<fullname>-controller`), running with one replica.
pub fn operator_deployment(line: OperatorLine) -> Value {
    let version = line.version();
    let selector = json!({"app.kubernetes.io/name": "openbao-operator", "app.kubernetes.io/component": "controller"});
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {
            "name": OPERATOR_DEPLOYMENT, "namespace": OPERATOR_NAMESPACE,
            "labels": {"app.kubernetes.io/name": "openbao-operator", "app.kubernetes.io/component": "controller",
                "app.kubernetes.io/instance": "openbao-operator", "app.kubernetes.io/managed-by": "Helm",
                "app.kubernetes.io/version": version,
                "helm.sh/chart": format!("openbao-operator-{version}")},
            "annotations": {"deployment.kubernetes.io/revision": "1", "meta.helm.sh/release-name": "openbao-operator",
                "meta.helm.sh/release-namespace": OPERATOR_NAMESPACE},
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector.clone()},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": selector},
                "spec": {
                    "serviceAccountName": "openbao-operator-controller",
                    "containers": [manager_container(line)],
                },
            },
        },
        "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": "ReplicaSet \"openbao-operator-controller-6b8f9c7d5\" has successfully progressed."},
            ]},
    })
}

/// The controller container; 0.6 adds `--platform` and the env of its chart (kubebao's `values.yaml`).
fn manager_container(line: OperatorLine) -> Value {
    let mut c = json!({"name": "manager", "image": line.image("openbao-operator"),
        "command": ["/manager", "controller"],
        "args": ["--leader-elect", "--metrics-bind-address=:8443", "--health-probe-bind-address=:8081"]});
    if line.is_06() {
        c["args"] = json!([
            "--leader-elect",
            "--health-probe-bind-address=:8081",
            "--metrics-bind-address=:8443",
            "--platform=auto"
        ]);
        c["env"] = json!([
            {"name": "OPERATOR_VERSION", "value": line.version()},
            {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "OPERATOR_SERVICE_ACCOUNT_NAME", "value": OPERATOR_DEPLOYMENT},
        ]);
    }
    c
}

/// An upgrade executor Job as `buildUpgradeExecutorJob` makes it (`internal/upgrade/job.go`), status empty.
pub fn executor_job(topo: &Topology, action: &str, run_id: &str, cluster_uid: &str) -> Value {
    let labels = with(infra_labels(topo), &[("openbao.org/component", "upgrade")]);
    let mut annotations = Map::new();
    annotations.insert("openbao.org/upgrade-action".into(), json!(action));
    if !run_id.is_empty() {
        annotations.insert("openbao.org/upgrade-run-id".into(), json!(run_id));
    }
    let env = [
        ("CLUSTER_NAMESPACE", topo.namespace.clone()),
        ("CLUSTER_NAME", topo.cluster.clone()),
        ("CLUSTER_REPLICAS", topo.replicas.to_string()),
        ("UPGRADE_ACTION", action.to_string()),
        (
            "UPGRADE_JWT_AUTH_ROLE",
            "openbao-operator-upgrade".to_string(),
        ),
        ("UPGRADE_BLUE_REVISION", topo.blue_rev.clone()),
        ("UPGRADE_GREEN_REVISION", topo.green_rev.clone()),
    ]
    .map(|(k, v)| json!({"name": k, "value": v}));
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {
            "name": topo.job(action, run_id), "namespace": topo.namespace,
            "labels": labels.clone(), "annotations": annotations,
            "ownerReferences": [owner_ref("openbao.org/v1alpha1", "OpenBaoCluster", &topo.cluster, cluster_uid)],
        },
        "spec": {
            "backoffLimit": 0, "ttlSecondsAfterFinished": 3600, "completions": 1, "parallelism": 1,
            "completionMode": "NonIndexed", "suspend": false, "manualSelector": false,
            "podReplacementPolicy": "TerminatingOrFailed",
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "restartPolicy": "Never",
                    "serviceAccountName": format!("{}-upgrade-serviceaccount", topo.cluster),
                    "automountServiceAccountToken": false,
                    "containers": [{"name": EXECUTOR_CONTAINER,
                        "image": topo.operator.image("openbao-upgrade"),
                        "env": env,
                        "securityContext": {"runAsNonRoot": true, "readOnlyRootFilesystem": true,
                            "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
                        "volumeMounts": [
                            {"name": "openbao-token", "mountPath": "/var/run/secrets/tokens", "readOnly": true},
                            {"name": "tls-ca", "mountPath": "/etc/bao/tls", "readOnly": true}]}],
                    "volumes": [
                        {"name": "openbao-token", "projected": {"sources": [{"serviceAccountToken":
                            {"audience": "openbao-internal", "expirationSeconds": 3600, "path": "openbao-token"}}]}},
                        {"name": "tls-ca", "secret": {"secretName": format!("{}-tls-ca", topo.cluster)}}],
                },
            },
        },
    })
}

/// The pre-upgrade snapshot Job (`internal/upgrade/bluegreen/`): backup labels with component `upgrade-snapshot`.
pub fn snapshot_job(topo: &Topology, cluster_uid: &str) -> Value {
    let labels = with(
        infra_labels(topo),
        &[("openbao.org/component", "upgrade-snapshot")],
    );
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {
            "name": topo.snapshot_job(), "namespace": topo.namespace, "labels": labels.clone(),
            "annotations": {"openbao.org/snapshot-phase": "pre-upgrade"},
            "ownerReferences": [owner_ref("openbao.org/v1alpha1", "OpenBaoCluster", &topo.cluster, cluster_uid)],
        },
        "spec": {
            "backoffLimit": 0, "ttlSecondsAfterFinished": 3600, "completions": 1, "parallelism": 1,
            "template": {"metadata": {"labels": labels}, "spec": {
                "restartPolicy": "Never",
                "serviceAccountName": format!("{}-backup-serviceaccount", topo.cluster),
                "containers": [{"name": BACKUP_CONTAINER, "image": topo.operator.image("openbao-backup"),
                    "env": [{"name": "STATEFULSET_NAME", "value": topo.statefulset(true)}]}]}},
        },
    })
}

/// What the API server adds once it knows the Job's uid: selector and pod-template labels.
pub(crate) fn add_job_selector(job: &mut Value, uid: &str) {
    let name = job
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    job["spec"]["selector"] = json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}});
    if let Some(labels) = job
        .pointer_mut("/spec/template/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        for (k, v) in job_pod_labels(&name, uid) {
            labels.insert(k, v);
        }
    }
}

fn job_pod_labels(job: &str, uid: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("batch.kubernetes.io/controller-uid".into(), json!(uid));
    m.insert("batch.kubernetes.io/job-name".into(), json!(job));
    m.insert("controller-uid".into(), json!(uid));
    m.insert("job-name".into(), json!(job));
    m
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobPhase {
    Running,
    Succeeded,
    Failed,
}

/// Job status as the job-controller writes it (Failed: BackoffLimitExceeded).
pub fn job_status(phase: JobPhase, start: Timestamp, end: Timestamp) -> Value {
    let (s, e) = (ts(start), ts(end));
    match phase {
        JobPhase::Running => json!({"active": 1, "ready": 1, "startTime": s, "terminating": 0,
            "uncountedTerminatedPods": {}}),
        JobPhase::Succeeded => {
            json!({"succeeded": 1, "ready": 0, "startTime": s, "completionTime": e, "terminating": 0,
            "uncountedTerminatedPods": {},
            "conditions": [
                {"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods", "lastProbeTime": e, "lastTransitionTime": e},
                {"type": "Complete", "status": "True", "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods", "lastProbeTime": e, "lastTransitionTime": e}]})
        }
        JobPhase::Failed => json!({"failed": 1, "ready": 0, "startTime": s, "terminating": 0,
            "uncountedTerminatedPods": {},
            "conditions": [
                {"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit", "lastProbeTime": e, "lastTransitionTime": e},
                {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit", "lastProbeTime": e, "lastTransitionTime": e}]}),
    }
}

/// The pod of a Job: `<job>-<5 random chars>`, Job labels plus the job-controller's, owned by the Job.
pub fn job_pod(job: &Value, job_uid: &str, suffix: &str) -> Value {
    let name = job
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let ns = job
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut labels = job
        .pointer("/spec/template/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    labels.extend(job_pod_labels(name, job_uid));
    let spec = job
        .pointer("/spec/template/spec")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("{name}-{suffix}"), "namespace": ns, "labels": labels,
            "ownerReferences": [owner_ref("batch/v1", "Job", name, job_uid)]},
        "spec": spec,
    });
    pod["spec"]["nodeName"] = json!("worker-2");
    pod
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodRun {
    Pending,
    Running,
    /// Terminated with this exit code.
    Exited(i32),
}

/// A single-container Job pod's status.
pub(crate) fn job_pod_status(
    container: &str,
    image: &str,
    run: PodRun,
    start: Timestamp,
    end: Timestamp,
) -> Value {
    let (s, e) = (ts(start), ts(end));
    let (phase, state, ready) = match run {
        PodRun::Pending => (
            "Pending",
            json!({"waiting": {"reason": "ContainerCreating"}}),
            false,
        ),
        PodRun::Running => ("Running", json!({"running": {"startedAt": s}}), true),
        PodRun::Exited(code) => (
            if code == 0 { "Succeeded" } else { "Failed" },
            json!({"terminated": {"exitCode": code, "reason": if code == 0 { "Completed" } else { "Error" },
                "startedAt": s, "finishedAt": e, "containerID": "containerd://0f3a"}}),
            false,
        ),
    };
    json!({
        "phase": phase, "qosClass": "BestEffort", "startTime": s,
        "podIP": "10.244.2.77", "hostIP": "172.18.0.3",
        "conditions": [
            condition("PodReadyToStartContainers", run != PodRun::Pending, &s),
            condition("Initialized", true, &s),
            condition("Ready", ready, &s),
            condition("ContainersReady", ready, &s),
            condition("PodScheduled", true, &s),
        ],
        "containerStatuses": [{"name": container, "image": image, "imageID": "", "ready": ready,
            "started": run == PodRun::Running, "restartCount": 0, "state": state}],
    })
}

#[cfg(test)]
#[path = "twin_objects_tests.rs"]
mod tests;
