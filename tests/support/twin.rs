//! Shared setup for the operator-twin tests: a real store seeded from a scenario, the twin
//! running at a test speed, and bounded waits on store change events (no sleeps).
use std::sync::Arc;
use std::time::Duration;

use breakglass::sim::operator_line::OperatorLine;
use breakglass::sim::scenario::{Scenario, Topology};
use breakglass::sim::store::{Change, Resource, Store};
use breakglass::sim::twin::{TwinHandle, bound, model_for, spawn};
use breakglass::sim::twin_seed::{Seeded, seed};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio::time::Instant;

pub const SPEED: f64 = 20.0;

pub struct Setup {
    pub store: Arc<Store>,
    pub scenario: Scenario,
    pub topo: Topology,
    pub seeded: Seeded,
    pub twin: TwinHandle,
    pub rx: broadcast::Receiver<Change>,
    pub bound: Duration,
}

/// `name` on the 0.1 line (the library default the older tests were written for).
pub fn start(name: &str) -> Setup {
    start_on(name, OperatorLine::V01)
}

/// `name` played by the `line` operator, with that line's CRDs in the store.
pub fn start_on(name: &str, line: OperatorLine) -> Setup {
    let scenario = Scenario::named(name)
        .unwrap()
        .with_operator(line)
        .unwrap()
        .with_speed(SPEED)
        .unwrap();
    let store = Store::for_operator(line);
    let seeded = seed(&store, &scenario, &model_for(&scenario)).unwrap();
    let rx = store.subscribe();
    let twin = spawn(store.clone(), scenario.clone());
    Setup {
        topo: Topology::of(&scenario),
        bound: bound(&scenario),
        store,
        scenario,
        seeded,
        twin,
        rx,
    }
}

impl Setup {
    pub fn cluster(&self) -> Value {
        self.store
            .get(
                Resource::OpenBaoClusters,
                &self.topo.namespace,
                &self.topo.cluster,
            )
            .unwrap()
    }

    /// What `kubectl patch --type merge -p '{"spec":{"breakGlassAck":"..."}}'` stores.
    pub fn ack(&self, nonce: &str) {
        self.store
            .modify(
                Resource::OpenBaoClusters,
                &self.topo.namespace,
                &self.topo.cluster,
                |o| o["spec"]["breakGlassAck"] = json!(nonce),
            )
            .unwrap();
    }

    pub fn jobs(&self) -> Vec<Value> {
        self.store
            .list(Resource::Jobs, Some(&self.topo.namespace))
            .0
    }

    pub fn job_named(&self, name: &str) -> Option<Value> {
        self.store.get(Resource::Jobs, &self.topo.namespace, name)
    }

    /// Pods of a Job, found the way the console finds them (new label, then legacy).
    pub fn pods_of_job(&self, job: &str) -> Vec<Value> {
        let (pods, _) = self.store.list(Resource::Pods, Some(&self.topo.namespace));
        pods.into_iter()
            .filter(|p| {
                let l = &p["metadata"]["labels"];
                l["batch.kubernetes.io/job-name"] == job || l["job-name"] == job
            })
            .collect()
    }

    /// The executor log of a Job's pod so far, as lines, and whether it ended.
    pub fn executor_log(&self, job: &str) -> (Vec<String>, bool) {
        let pods = self.pods_of_job(job);
        let Some(pod) = pods.first() else {
            return (Vec::new(), false);
        };
        let r = self.store.read_log(
            &self.topo.namespace,
            &s(pod, "/metadata/name"),
            "upgrade-executor",
            0,
            false,
        );
        (r.lines.into_iter().map(|l| l.text).collect(), r.terminated)
    }

    /// The Events recorded about the cluster, oldest first: (type, reason, message).
    pub fn events(&self) -> Vec<(String, String, String)> {
        let (mut evs, _) = self
            .store
            .list(Resource::Events, Some(&self.topo.namespace));
        evs.sort_by_key(|e| s(e, "/eventTime"));
        evs.iter()
            .map(|e| (s(e, "/type"), s(e, "/reason"), s(e, "/message")))
            .collect()
    }

    /// Wait (bounded) until `f` holds, re-checking on every store change.
    pub async fn until<T>(&mut self, what: &str, mut f: impl FnMut(&Self) -> Option<T>) -> T {
        let deadline = Instant::now() + self.bound;
        loop {
            if let Some(t) = f(self) {
                return t;
            }
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Err(_) => panic!("timed out after {:?} waiting for {what}", self.bound),
                Ok(Err(broadcast::error::RecvError::Closed)) => panic!("store closed"),
                Ok(_) => {}
            }
        }
    }

    /// Wait (bounded) until `f` holds, re-checking on every store or container-log change.
    pub async fn until_log<T>(&mut self, what: &str, mut f: impl FnMut(&Self) -> Option<T>) -> T {
        let deadline = Instant::now() + self.bound;
        let mut logs = self.store.log_changes();
        loop {
            if let Some(t) = f(self) {
                return t;
            }
            let woke = tokio::select! {
                r = logs.changed() => r.is_ok(),
                r = self.rx.recv() => !matches!(r, Err(broadcast::error::RecvError::Closed)),
                _ = tokio::time::sleep_until(deadline) => panic!("timed out after {:?} waiting for {what}", self.bound),
            };
            assert!(woke, "store closed");
        }
    }

    /// Collect every change for `window`; for asserting that nothing happens.
    pub async fn changes_within(&mut self, window: Duration) -> Vec<Change> {
        let deadline = Instant::now() + window;
        let mut seen = Vec::new();
        while let Ok(r) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            if let Ok(c) = r {
                seen.push(c);
            }
        }
        seen
    }
}

pub fn s(v: &Value, ptr: &str) -> String {
    v.pointer(ptr)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}
