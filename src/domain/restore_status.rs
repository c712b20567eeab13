//! Following an OpenBaoRestore the console created (dc-tec/openbao-operator@002fbdd `internal/restore/manager.go`): its
//! `status.phase`/`status.message`, the restore Job `restore-<name>` (container `restore`)
//! and its log, and what of it goes into the journal. Pure; `sources::restore_follow`
//! reads, `app::wizard_flow` applies, `ui::wizard` shows.

use std::collections::VecDeque;

use serde_json::Value;

/// The restore controller's Job is `restore-<restore name>` (container [`RESTORE_CONTAINER`]).
pub(crate) fn restore_job_name(restore: &str) -> String {
    format!("restore-{restore}")
}

/// The restore executor's container in the restore Job's pod.
pub(crate) const RESTORE_CONTAINER: &str = "restore";

/// The restore executor's fatal line on stderr (`cmd/bao-backup`, restore mode).
pub(crate) const EXECUTOR_ERROR_PREFIX: &str = "bao-restore error: ";

/// How many of the restore Job's log lines the console keeps (the evidence file keeps all).
pub(crate) const KEEP_LINES: usize = 500;

/// The part of an OpenBaoRestore's status the console follows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RestoreStatus {
    /// `Pending|Validating|Running|Completed|Failed` (and `Unknown` on the newer lines);
    /// None before the controller wrote any.
    pub phase: Option<String>,
    pub message: Option<String>,
    pub snapshot_key: Option<String>,
    /// `metadata.uid`: the prefix of the Resume/Abandon acknowledgement.
    pub uid: Option<String>,
    pub resource_version: Option<String>,
}

impl RestoreStatus {
    pub fn from_json(obj: &Value) -> RestoreStatus {
        let s = |p: &str| obj.pointer(p).and_then(Value::as_str).map(str::to_string);
        RestoreStatus {
            phase: s("/status/phase").filter(|p| !p.is_empty()),
            message: s("/status/message").filter(|m| !m.is_empty()),
            snapshot_key: s("/status/snapshotKey"),
            uid: s("/metadata/uid").filter(|u| !u.is_empty()),
            resource_version: s("/metadata/resourceVersion").filter(|r| !r.is_empty()),
        }
    }

    /// Phase `Unknown` (newer lines): the controller cannot prove whether the destructive
    /// restore ran; it is never retried and waits for an administrator's Resume/Abandon.
    pub fn unknown(&self) -> bool {
        self.phase.as_deref() == Some("Unknown")
    }

    /// Completed or Failed: the controller is done with it.
    pub fn finished(&self) -> bool {
        matches!(self.phase.as_deref(), Some("Completed" | "Failed"))
    }

    fn phase_label(&self) -> &str {
        self.phase
            .as_deref()
            .unwrap_or("(no phase yet: is the operator running?)")
    }
}

/// What the journal gets from a change (kept apart so `app` maps them to its events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Noted {
    /// A phase or message change, the object's disappearance, an executor error line.
    Observed(String),
    /// The controller finished: Completed or Failed, with its message.
    Outcome(String),
}

/// What the console has seen of the restore it created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreFollow {
    pub name: String,
    pub job: String,
    /// None until the first read; `Some(None)`: the object does not exist (deleted).
    pub status: Option<Option<RestoreStatus>>,
    /// The last [`KEEP_LINES`] lines of the restore Job's log.
    pub lines: VecDeque<String>,
    /// Lines no longer kept here (still in the evidence file).
    pub dropped: usize,
    /// The executor's `bao-restore error: ...` line, if it printed one.
    pub executor_error: Option<String>,
    /// The Job's container terminated and its log was read to the end.
    pub log_ended: bool,
}

impl RestoreFollow {
    pub fn new(name: &str) -> RestoreFollow {
        RestoreFollow {
            name: name.to_string(),
            job: restore_job_name(name),
            status: None,
            lines: VecDeque::new(),
            dropped: 0,
            executor_error: None,
            log_ended: false,
        }
    }

    /// The status as last seen, if the object exists.
    pub fn current(&self) -> Option<&RestoreStatus> {
        self.status.as_ref().and_then(Option::as_ref)
    }

    /// A new read of the object (None: it does not exist). Returns what changed.
    pub(crate) fn on_status(&mut self, new: Option<RestoreStatus>) -> Vec<Noted> {
        let before = self.status.replace(new.clone());
        let name = &self.name;
        let mut out = Vec::new();
        match (before.flatten(), new) {
            (Some(_), None) => out.push(Noted::Observed(format!(
                "OpenBaoRestore {name} no longer exists (deleted)"
            ))),
            (None, None) => {}
            (old, Some(new)) => {
                let phase_changed = old.as_ref().map(|o| &o.phase) != Some(&new.phase);
                let message_changed = old.as_ref().map(|o| &o.message) != Some(&new.message);
                if phase_changed || message_changed {
                    let from = old
                        .as_ref()
                        .map_or("created".to_string(), |o| o.phase_label().to_string());
                    out.push(Noted::Observed(format!(
                        "OpenBaoRestore {name}: {from} → {}: {}",
                        new.phase_label(),
                        new.message.as_deref().unwrap_or("(no message)")
                    )));
                }
                if phase_changed && new.finished() {
                    out.push(Noted::Outcome(format!(
                        "{}: {}",
                        new.phase_label(),
                        new.message.as_deref().unwrap_or("(no message)")
                    )));
                }
            }
        }
        out
    }

    /// Lines of the restore Job's log. Returns the executor's error line when it appears.
    pub(crate) fn on_lines(&mut self, lines: Vec<String>) -> Vec<Noted> {
        let mut out = Vec::new();
        for line in lines {
            if self.executor_error.is_none() && line.contains(EXECUTOR_ERROR_PREFIX) {
                self.executor_error = Some(line.clone());
                out.push(Noted::Observed(format!(
                    "restore Job {} (container {RESTORE_CONTAINER}): {line}",
                    self.job
                )));
            }
            self.lines.push_back(line);
            if self.lines.len() > KEEP_LINES {
                self.lines.pop_front();
                self.dropped += 1;
            }
        }
        out
    }
}

/// A snapshot key the user typed: non-empty, no whitespace, no control characters.
pub(crate) fn check_typed_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("the typed snapshot key is empty".into());
    }
    if let Some(c) = key.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "the typed snapshot key contains {c:?}: no whitespace or control characters"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn status(phase: &str, message: &str) -> Option<RestoreStatus> {
        Some(RestoreStatus::from_json(
            &json!({"status": {"phase": phase, "message": message}}),
        ))
    }

    #[test]
    fn phase_and_message_changes_are_noted_and_the_end_is_the_outcome() {
        let mut f = RestoreFollow::new("prod-cluster-breakglass-restore");
        assert_eq!(f.job, "restore-prod-cluster-breakglass-restore");
        let first = f.on_status(Some(RestoreStatus::default()));
        assert_eq!(
            first,
            [Noted::Observed(
                "OpenBaoRestore prod-cluster-breakglass-restore: created → (no phase yet: is the operator running?): (no message)".into()
            )]
        );
        let v = f.on_status(status("Validating", "Validating restore preconditions"));
        assert!(
            matches!(&v[..], [Noted::Observed(t)] if t.contains("→ Validating: Validating restore preconditions"))
        );
        assert!(
            f.on_status(status("Validating", "Validating restore preconditions"))
                .is_empty()
        );
        let r = f.on_status(status("Running", "Restore job running"));
        assert_eq!(r.len(), 1);
        let m = f.on_status(status("Running", "Restore job in progress"));
        assert!(matches!(&m[..], [Noted::Observed(t)] if t.contains("Running → Running")));
        let end = f.on_status(status(
            "Failed",
            "Restore job failed: Job has reached the specified backoff limit",
        ));
        assert_eq!(
            end[1],
            Noted::Outcome(
                "Failed: Restore job failed: Job has reached the specified backoff limit".into()
            )
        );
        assert!(f.current().is_some_and(RestoreStatus::finished));
        let gone = f.on_status(None);
        assert!(matches!(&gone[..], [Noted::Observed(t)] if t.contains("deleted")));
    }

    #[test]
    fn the_log_is_bounded_and_the_executor_error_is_noted_once() {
        let mut f = RestoreFollow::new("r");
        let lines: Vec<String> = (0..KEEP_LINES + 3).map(|i| format!("line {i}")).collect();
        assert!(f.on_lines(lines).is_empty());
        assert_eq!(f.lines.len(), KEEP_LINES);
        assert_eq!(f.dropped, 3);
        let err = "bao-restore error: failed to find leader: no leader found among 3 pods after 5 attempts";
        assert_eq!(f.on_lines(vec![err.into()]).len(), 1);
        assert!(f.on_lines(vec![err.into()]).is_empty(), "noted once");
        assert_eq!(f.executor_error.as_deref(), Some(err));
    }

    #[test]
    fn typed_keys_must_be_one_visible_word() {
        assert!(check_typed_key("security/prod-cluster/x.snap").is_ok());
        assert!(check_typed_key("").unwrap_err().contains("empty"));
        assert!(check_typed_key("a b").unwrap_err().contains("whitespace"));
        assert!(check_typed_key("a\u{1b}[2J").is_err());
        assert!(check_typed_key("a\tb").is_err());
    }
}
