//! The Restore wizard as a pure state machine (runbook path C, checked against the code:
//! operator-facts §5.3, §5.5, §9). Each destructive step is confirmed on its own; the
//! irreversible ones (deleting a PVC, restoring over data) need the cluster name typed.
//! Cancel, Esc or "n" at any step closes it and nothing is sent.
//!
//! Steps, in the order the code needs them (not the runbook's):
//! 1. the snapshot key (pre-upgrade Job log line, `status.backup.lastBackupName`, or typed)
//!    and its age; 2. scale the operator Deployment (found by its labels) to 0;
//! 3. delete the exact PVCs, one at a time; 4. scale the operator back up, because the
//!    restore controller runs inside it; 5. create the OpenBaoRestore with `force` and
//!    `overrideOperationLock`; 6. follow its status.
//!
//! The wizard only asks for [`Request`]s; the runtime sends them with the same guards as
//! every write (dry run first, journaled).

use jiff::Timestamp;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Snapshot,
    ScaleDown,
    DeletePvcs,
    ScaleUp,
    CreateRestore,
    Follow,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::Snapshot,
        Step::ScaleDown,
        Step::DeletePvcs,
        Step::ScaleUp,
        Step::CreateRestore,
        Step::Follow,
    ];

    /// Deleting data and restoring over it cannot be undone: typed confirmation.
    pub fn irreversible(self) -> bool {
        matches!(self, Step::DeletePvcs | Step::CreateRestore)
    }

    pub fn title(self) -> &'static str {
        match self {
            Step::Snapshot => "1. Choose the snapshot",
            Step::ScaleDown => "2. Scale the operator down",
            Step::DeletePvcs => "3. Delete the PVCs (one at a time)",
            Step::ScaleUp => "4. Scale the operator back up (the restore controller runs in it)",
            Step::CreateRestore => "5. Create the OpenBaoRestore (force, overrideOperationLock)",
            Step::Follow => "6. Follow the restore",
        }
    }
}

/// The operator Deployment found by `app.kubernetes.io/name=openbao-operator,
/// app.kubernetes.io/component=controller` in any namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub namespace: String,
    pub name: String,
    pub replicas: i32,
}

/// What the wizard knows about the cluster (read by sources before it opens).
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub namespace: String,
    pub cluster: String,
    /// The cluster's `spec.backup` (its `target` and auth are copied into the restore).
    pub backup: Option<Value>,
    pub operator: Option<Operator>,
    pub pvcs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Scale {
        namespace: String,
        name: String,
        replicas: i32,
    },
    DeletePvc {
        namespace: String,
        name: String,
    },
    CreateRestore {
        namespace: String,
        body: Value,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Confirm,
    Cancel,
    Type(char),
    Backspace,
    /// The previous request came back accepted.
    Done,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Nothing,
    /// Why Confirm did nothing.
    Refused(String),
    Send(Request),
    Close,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Wizard {
    pub facts: Facts,
    pub step: Step,
    pub key: Option<String>,
    /// PVCs not deleted yet (the first is the one the next confirmation deletes).
    pub pending_pvcs: Vec<String>,
    /// What the user typed for an irreversible step.
    pub typed: String,
    /// A request is out: nothing else is sent until it is answered.
    pub waiting: bool,
}

/// The snapshot key from the pre-upgrade snapshot Job's log
/// (`Backup completed successfully: <key> (size: <n> bytes)`).
pub fn key_from_log(line: &str) -> Option<String> {
    let rest = line.split("Backup completed successfully: ").nth(1)?;
    let key = rest.split_whitespace().next()?;
    (!key.is_empty()).then(|| key.to_string())
}

/// When the snapshot was taken, from its key (`...pre-upgrade-2026-11-23T09-41-07Z-1a2b3c4d.snap`
/// or `...<timestamp>-<8hex>.snap`).
pub fn key_time(key: &str) -> Option<Timestamp> {
    let file = key.rsplit('/').next()?;
    let stamp = file.strip_prefix("pre-upgrade-").unwrap_or(file);
    let (date, time) = stamp.get(..20)?.split_once('T')?;
    let time = time.strip_suffix('Z')?.replace('-', ":");
    format!("{date}T{time}Z").parse().ok()
}

/// The OpenBaoRestore: CRD-valid (`cluster`, `source.key`, `source.target.bucket`), with the
/// cluster's backup target and auth, `force` and `overrideOperationLock`.
pub fn restore_body(facts: &Facts, key: &str, name: &str) -> Result<Value, String> {
    let backup = facts
        .backup
        .as_ref()
        .ok_or("the cluster has no spec.backup: the restore has no target to read from")?;
    let target = backup
        .get("target")
        .filter(|t| t.get("bucket").is_some())
        .ok_or("spec.backup.target.bucket is missing")?;
    let mut spec = json!({
        "cluster": facts.cluster,
        "source": { "key": key, "target": target },
        "force": true,
        "overrideOperationLock": true,
    });
    let mut authed = false;
    for field in ["jwtAuthRole", "tokenSecretRef"] {
        if let Some(v) = backup.get(field) {
            spec[field] = v.clone();
            authed = true;
        }
    }
    if !authed {
        return Err(
            "spec.backup has neither jwtAuthRole nor tokenSecretRef: the restore controller would refuse".into(),
        );
    }
    Ok(json!({
        "apiVersion": "openbao.org/v1alpha1",
        "kind": "OpenBaoRestore",
        "metadata": { "name": name, "namespace": facts.namespace },
        "spec": spec,
    }))
}

impl Wizard {
    pub fn new(facts: Facts, key: Option<String>) -> Wizard {
        Wizard {
            pending_pvcs: facts.pvcs.clone(),
            facts,
            step: Step::Snapshot,
            key,
            typed: String::new(),
            waiting: false,
        }
    }

    /// The request the current step's confirmation sends (the preview shows it exactly).
    pub fn request(&self) -> Result<Option<Request>, String> {
        let f = &self.facts;
        let scale = |replicas: i32| -> Result<Option<Request>, String> {
            let op = f
                .operator
                .as_ref()
                .ok_or("no operator Deployment found by its labels")?;
            Ok(Some(Request::Scale {
                namespace: op.namespace.clone(),
                name: op.name.clone(),
                replicas,
            }))
        };
        match self.step {
            Step::Snapshot | Step::Follow => Ok(None),
            Step::ScaleDown => scale(0),
            Step::ScaleUp => scale(f.operator.as_ref().map_or(1, |o| o.replicas.max(1))),
            Step::DeletePvcs => Ok(self.pending_pvcs.first().map(|p| Request::DeletePvc {
                namespace: f.namespace.clone(),
                name: p.clone(),
            })),
            Step::CreateRestore => {
                let key = self.key.as_deref().ok_or("no snapshot key chosen")?;
                let name = format!("{}-breakglass-restore", f.cluster);
                Ok(Some(Request::CreateRestore {
                    namespace: f.namespace.clone(),
                    body: restore_body(f, key, &name)?,
                }))
            }
        }
    }

    fn advance(&mut self) {
        self.typed.clear();
        self.step = match self.step {
            Step::Snapshot => Step::ScaleDown,
            Step::ScaleDown => Step::DeletePvcs,
            Step::DeletePvcs if !self.pending_pvcs.is_empty() => Step::DeletePvcs,
            Step::DeletePvcs => Step::ScaleUp,
            Step::ScaleUp => Step::CreateRestore,
            Step::CreateRestore | Step::Follow => Step::Follow,
        };
    }

    pub fn on(&mut self, input: Input) -> Output {
        match input {
            Input::Cancel => Output::Close,
            Input::Type(c) if self.step.irreversible() => {
                self.typed.push(c);
                Output::Nothing
            }
            Input::Type(_) => Output::Nothing,
            Input::Backspace => {
                self.typed.pop();
                Output::Nothing
            }
            Input::Done => {
                self.waiting = false;
                if self.step == Step::DeletePvcs && !self.pending_pvcs.is_empty() {
                    self.pending_pvcs.remove(0);
                }
                self.advance();
                Output::Nothing
            }
            Input::Confirm => self.confirm(),
        }
    }

    fn confirm(&mut self) -> Output {
        if self.waiting {
            return Output::Refused("waiting for the previous request".into());
        }
        if self.step.irreversible() && self.typed != self.facts.cluster {
            return Output::Refused(format!(
                "irreversible: type the cluster name ({}) to confirm",
                self.facts.cluster
            ));
        }
        match self.request() {
            Err(reason) => Output::Refused(reason),
            Ok(None) if self.step == Step::Snapshot && self.key.is_none() => {
                Output::Refused("choose or type a snapshot key first".into())
            }
            Ok(None) => {
                self.advance();
                Output::Nothing
            }
            Ok(Some(req)) => {
                self.waiting = true;
                Output::Send(req)
            }
        }
    }
}

#[cfg(test)]
#[path = "wizard_tests.rs"]
mod tests;
