//! `breakglass ack CLUSTER --nonce N [--yes]`: the Retry path without the console, judged by
//! the console's guard (`domain::write::guard::retry`, [`judge`]): RBAC preflight, the nonce
//! checked against a fresh read (a stale nonce is refused without writing anything), the
//! exact body shown, then sent as shown (a server-side dry run first; the body carries the
//! resourceVersion it was built on, so a change since is a 409), everything journaled.
//!
//! Exit status ([`Exit`]): 0 acknowledged, 1 error, 4 refused (nothing sent: stale nonce,
//! break glass not active, not confirmed), 5 forbidden (RBAC), 6 conflict (the cluster
//! changed after the body was built; nothing applied).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use jiff::Timestamp;

use crate::domain::Incident;
use crate::domain::diagnosis::{self, Denied, Freshness, Inputs};
use crate::domain::paths::PathKind;
use crate::domain::write::{ClusterPatch, ClusterWrite, Refusal, Seen, Session, guard};
use crate::exit::Exit;
use crate::journal::{self, Entry, Event, Recorder};
use crate::sources::connect::Connection;
use crate::sources::{ActionOutcome, actions, rbac, snapshot};

/// The acknowledgement of `nonce` on the cluster just read, judged by Retry's guard (the
/// console's): the patch to show and send, or why nothing is sent.
pub(crate) fn judge(
    incident: &Incident,
    namespace: &str,
    who: &str,
    denied: &[Denied],
    nonce: &str,
) -> Result<ClusterPatch, Refusal> {
    let seen = Seen {
        namespace,
        name: &incident.cluster_name,
        cluster: incident.cluster.as_ref(),
        missing: incident.cluster.is_none(),
        stale: Vec::new(),
        unparseable: false,
        in_flight: false,
        line: incident.generation().line,
        restore_running: None,
    };
    // The CLI's confirmation (`--yes`, or y at the prompt) stands for write mode.
    let session = Session {
        write: true,
        write_key: crate::app::write_mode::DEFAULT_KEY,
        who,
        denied,
    };
    let patch = guard::retry(&seen, &session)?;
    let confirmed = ClusterWrite::Acknowledge {
        nonce: nonce.to_string(),
    };
    guard::confirmed(&confirmed, None, &patch)?;
    Ok(patch)
}

/// Appends to the incident's journal; a journal that cannot be written is said, not fatal.
struct Log {
    path: Option<PathBuf>,
}

impl Log {
    fn write(&self, entries: &[Entry]) {
        if let Some(p) = &self.path
            && let Err(e) = journal::append(p, entries)
        {
            eprintln!("breakglass: {e}");
        }
    }

    fn event(&self, event: Event) {
        self.write(&[Entry::new(Timestamp::now(), event)]);
    }

    fn outcome(&self, result: &str) {
        self.event(Event::Outcome {
            action: "acknowledge (breakglass ack)".into(),
            result: result.into(),
        });
    }
}

/// Ask y/N on the terminal; anything but y/yes (or no terminal) is No.
fn confirm(cluster: &str) -> bool {
    if !std::io::stdin().is_terminal() {
        eprintln!("stdin is not a terminal: pass --yes to acknowledge without a prompt");
        return false;
    }
    print!("Acknowledge break glass on {cluster}? [y/N] ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// The line a refusal is reported with (a forbidden one says so itself).
fn refused(reason: &Refusal) -> String {
    if reason.is_forbidden() {
        format!("{reason}; nothing was sent")
    } else {
        format!("refused: {reason}; nothing was sent")
    }
}

pub async fn run(conn: &Connection, cluster: &str, nonce: &str, yes: bool) -> Exit {
    let incident = match snapshot::read(&conn.client, &conn.namespace, cluster).await {
        Ok(i) => i,
        Err(e) => {
            eprintln!("breakglass: {e}");
            return Exit::Error;
        }
    };
    let green = incident
        .cluster
        .as_ref()
        .and_then(|c| c.blue_green.as_ref()?.green_revision.clone());
    let log = Log {
        path: journal::state_dir().map(|d| {
            d.join(journal::file_name(
                &conn.namespace,
                cluster,
                green.as_deref(),
            ))
        }),
    };
    if let Some(p) = &log.path {
        eprintln!("journal: {}", p.display());
    }
    let who = rbac::identity(&conn.client, &conn.user).await;
    log.event(Event::Session {
        tool: "ack".into(),
        os_user: journal::os_user(),
        k8s_user: who.clone(),
        context: conn.context.clone(),
        namespace: conn.namespace.clone(),
        cluster: cluster.into(),
    });
    let denied = match rbac::preflight(&conn.client, &conn.namespace).await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("breakglass: RBAC preflight failed: {e}");
            return Exit::Error;
        }
    };
    let mut diagnosis = diagnosis::diagnose(&Inputs {
        incident: &incident,
        evidence: &[],
        freshness: Freshness::default(),
        denied: &denied,
    });
    // What differs by operator line (what the ack reruns per reason, what RollbackCleanup
    // does after it), for the line detected as the console does.
    let line = incident.generation().line;
    println!("{}", line.header());
    crate::domain::path_truth::apply_line(&mut diagnosis, &incident, line);
    let Some(retry) = diagnosis.verdict(PathKind::Retry) else {
        return Exit::Error;
    };
    let patch = match judge(&incident, &conn.namespace, &who, &denied, nonce) {
        Ok(p) => p,
        Err(reason) => {
            let msg = refused(&reason);
            eprintln!("breakglass: {msg}");
            log.outcome(&msg);
            return if reason.is_forbidden() {
                Exit::Forbidden
            } else {
                Exit::Refused
            };
        }
    };
    println!(
        "JSON merge patch for openbaoclusters/{cluster} in {}, sent exactly:\n  {}",
        conn.namespace, patch.body
    );
    println!("What the operator will do:");
    for w in &retry.warnings {
        println!("  - {w}");
    }
    log.event(Event::Decision {
        path: "Retry".into(),
        recommended: diagnosis.recommended.map(|p| p.title().to_string()),
        summary: diagnosis.summary.clone(),
        evidence: diagnosis
            .findings
            .iter()
            .map(|f| format!("{} [{}]", f.text, f.source.label()))
            .collect(),
    });
    if !yes && !confirm(cluster) {
        let msg = format!("refused: {}; nothing was sent", Refusal::NotConfirmed);
        eprintln!("breakglass: {msg}");
        log.outcome(&msg);
        return Exit::Refused;
    }
    let mut rec = Recorder::default();
    let outcome = actions::send(&conn.client, &patch, &mut rec).await;
    log.write(&rec.entries);
    let (code, msg) = match &outcome {
        ActionOutcome::Acknowledged {
            resource_version, ..
        } => (
            Exit::Ok,
            format!(
                "acknowledged nonce {nonce} (resourceVersion {resource_version}); the operator retries within ~5 s"
            ),
        ),
        ActionOutcome::Refused { reason } => (
            if reason.is_forbidden() {
                Exit::Forbidden
            } else {
                Exit::Refused
            },
            refused(reason),
        ),
        ActionOutcome::Reverted { .. }
        | ActionOutcome::Paused { .. }
        | ActionOutcome::WizardStepDone => (Exit::Error, "unexpected outcome".into()),
        ActionOutcome::Failed {
            status: Some(403),
            message,
        } => (Exit::Forbidden, format!("forbidden as {who}: {message}")),
        ActionOutcome::Failed {
            status: Some(409),
            message,
        } => (Exit::Conflict, message.clone()),
        ActionOutcome::Failed { message, .. } => (Exit::Error, message.clone()),
    };
    log.outcome(&msg);
    if code == Exit::Ok {
        println!("{msg}");
    } else {
        eprintln!("breakglass: {msg}");
    }
    code
}
