//! The Restore wizard as a pure state machine (runbook path C, checked against the code of
//! each operator line). Each destructive step is confirmed on its own; the irreversible ones
//! (deleting a PVC, restoring over data) need the cluster name typed. Cancel, Esc or "n" at
//! any step closes it and nothing is sent.
//!
//! On the newer lines (0.2 on, `Facts::targets_blue`) the restore controller targets Blue's
//! StatefulSet itself and needs a running, unsealed Blue leader: steps 2–4 are skipped and
//! upstream's runbook is followed (a known-good snapshot, the forced lock-override restore).
//!
//! Steps on the 0.1 line, in the order the code needs them (not the runbook's):
//! 1. the snapshot key (pre-upgrade Job log line, `status.backup.lastBackupName`, or typed:
//!    whatever is typed at this step replaces the found key, validated, age unknown) and its age; 2. scale the operator Deployment (found by its labels) to 0;
//! 3. delete the exact PVCs, one at a time; 4. scale the operator back up, because the
//!    restore controller runs inside it; 5. create the OpenBaoRestore with `force` and
//!    `overrideOperationLock`; 6. follow its status.
//!
//! The wizard only asks for [`Request`]s; the runtime sends them with the same guards as
//! every write (dry run first, journaled).

pub use crate::domain::restore::{Facts, Operator, Request, key_from_log, key_time, restore_body};
use crate::domain::restore_status::check_typed_key;

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
    pub(crate) const ALL: [Step; 6] = [
        Step::Snapshot,
        Step::ScaleDown,
        Step::DeletePvcs,
        Step::ScaleUp,
        Step::CreateRestore,
        Step::Follow,
    ];

    /// Whether the step is walked on the wizard's line.
    pub fn applies(self, facts: &Facts) -> bool {
        !(facts.targets_blue()
            && matches!(self, Step::ScaleDown | Step::DeletePvcs | Step::ScaleUp))
    }

    /// Deleting data and restoring over it cannot be undone: typed confirmation.
    pub fn irreversible(self) -> bool {
        matches!(self, Step::DeletePvcs | Step::CreateRestore)
    }

    pub(crate) fn title(self) -> &'static str {
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
    /// The key was typed by the user (its age is unknown: it is not read from the key).
    pub key_typed: bool,
    /// PVCs not deleted yet (the first is the one the next confirmation deletes).
    pub pending_pvcs: Vec<String>,
    /// What the user typed for an irreversible step.
    pub typed: String,
    /// A request is out: nothing else is sent until it is answered.
    pub waiting: bool,
    /// Makes the OpenBaoRestore's name unique per wizard (set from the clock when it
    /// opens), so a second attempt is not refused as AlreadyExists.
    pub name_suffix: String,
}

impl Wizard {
    pub fn new(facts: Facts, key: Option<String>) -> Wizard {
        Wizard {
            pending_pvcs: facts.pvcs.clone(),
            facts,
            step: Step::Snapshot,
            key,
            key_typed: false,
            typed: String::new(),
            waiting: false,
            name_suffix: "breakglass".into(),
        }
    }

    /// The OpenBaoRestore's name (the follower watches it and its Job `restore-<name>`):
    /// `<cluster>-restore-<suffix>`, the cluster part shortened so that the Job's name stays
    /// a valid label value (at most 63 characters).
    pub(crate) fn restore_name(&self) -> String {
        let tail = format!("-restore-{}", self.name_suffix);
        let room = 63usize.saturating_sub("restore-".len() + tail.len());
        let cluster: String = self.facts.cluster.chars().take(room).collect();
        format!("{}{tail}", cluster.trim_end_matches(['-', '.']))
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
                Ok(Some(Request::CreateRestore {
                    namespace: f.namespace.clone(),
                    body: restore_body(f, key, &self.restore_name())?,
                }))
            }
        }
    }

    fn advance(&mut self) {
        self.typed.clear();
        self.step = match self.step {
            Step::Snapshot if self.facts.targets_blue() => Step::CreateRestore,
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
            Input::Type(c) if self.step.irreversible() || self.step == Step::Snapshot => {
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
        if self.step == Step::Snapshot && !self.typed.is_empty() {
            // A typed key replaces the found one (validated; its age is unknown).
            if let Err(reason) = check_typed_key(&self.typed) {
                return Output::Refused(reason);
            }
            self.key = Some(std::mem::take(&mut self.typed));
            self.key_typed = true;
            self.advance();
            return Output::Nothing;
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
pub(crate) mod tests;
