//! `breakglass ack CLUSTER --nonce N [--yes]`: the Retry path without the console, with the
//! console's guards: RBAC preflight, the nonce checked against a fresh read (a stale nonce
//! is refused without writing anything), the exact body shown, a server-side dry run, the
//! patch carrying the resourceVersion, and everything journaled.
//!
//! Exit status: [`EXIT_ACKNOWLEDGED`] 0, [`EXIT_ERROR`] 1, [`EXIT_REFUSED`] 4 (nothing sent:
//! stale nonce, break glass not active, not confirmed), [`EXIT_FORBIDDEN`] 5 (RBAC),
//! [`EXIT_CONFLICT`] 6 (the cluster changed between re-read and patch; nothing applied).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use jiff::Timestamp;

use crate::domain::diagnosis::{self, Freshness, Inputs};
use crate::domain::paths::PathKind;
use crate::journal::{self, Entry, Event, Recorder};
use crate::sources::connect::Connection;
use crate::sources::{ActionOutcome, actions, rbac, snapshot};

pub const EXIT_ACKNOWLEDGED: u8 = 0;
pub const EXIT_ERROR: u8 = 1;
pub const EXIT_REFUSED: u8 = 4;
pub const EXIT_FORBIDDEN: u8 = 5;
pub const EXIT_CONFLICT: u8 = 6;

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

pub async fn run(conn: &Connection, cluster: &str, nonce: &str, yes: bool) -> u8 {
    let incident = match snapshot::read(&conn.client, &conn.namespace, cluster).await {
        Ok(i) => i,
        Err(e) => {
            eprintln!("breakglass: {e}");
            return EXIT_ERROR;
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
            return EXIT_ERROR;
        }
    };
    let diagnosis = diagnosis::diagnose(&Inputs {
        incident: &incident,
        evidence: &[],
        freshness: Freshness::default(),
        denied: &denied,
    });
    let Some(retry) = diagnosis.verdict(PathKind::Retry) else {
        return EXIT_ERROR;
    };
    if let Some(missing) = denied.iter().find(|d| d.path == PathKind::Retry) {
        let msg = format!(
            "forbidden: {who} may not {}; nothing was sent (see README \"RBAC\")",
            missing.permission
        );
        eprintln!("breakglass: {msg}");
        log.outcome(&msg);
        return EXIT_FORBIDDEN;
    }
    let current = incident.cluster.as_ref().and_then(|c| c.active_nonce());
    if current != Some(nonce) {
        let msg = match current {
            Some(c) => format!("refused: the nonce is stale (current {c}); nothing was sent"),
            None => "refused: break glass is not active; nothing was sent".into(),
        };
        eprintln!("breakglass: {msg}");
        log.outcome(&msg);
        return EXIT_REFUSED;
    }
    let rv = incident
        .cluster
        .as_ref()
        .map_or("", |c| c.resource_version.as_str());
    println!(
        "JSON merge patch for openbaoclusters/{cluster} in {}:\n  {}",
        conn.namespace,
        actions::ack_patch(nonce, rv)
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
        let msg = "cancelled: not confirmed; nothing was sent";
        eprintln!("breakglass: {msg}");
        log.outcome(msg);
        return EXIT_REFUSED;
    }
    let mut rec = Recorder::default();
    let outcome =
        actions::acknowledge_recorded(&conn.client, &conn.namespace, cluster, nonce, &mut rec)
            .await;
    log.write(&rec.entries);
    let (code, msg) = match &outcome {
        ActionOutcome::Acknowledged {
            resource_version, ..
        } => (
            EXIT_ACKNOWLEDGED,
            format!(
                "acknowledged nonce {nonce} (resourceVersion {resource_version}); the operator retries within ~5 s"
            ),
        ),
        ActionOutcome::Refused { reason } => (EXIT_REFUSED, format!("refused: {reason}")),
        ActionOutcome::Reverted { .. }
        | ActionOutcome::Paused { .. }
        | ActionOutcome::WizardStepDone => (EXIT_ERROR, "unexpected outcome".into()),
        ActionOutcome::Failed {
            status: Some(403),
            message,
        } => (EXIT_FORBIDDEN, format!("forbidden as {who}: {message}")),
        ActionOutcome::Failed {
            status: Some(409),
            message,
        } => (EXIT_CONFLICT, message.clone()),
        ActionOutcome::Failed { message, .. } => (EXIT_ERROR, message.clone()),
    };
    log.outcome(&msg);
    if code == EXIT_ACKNOWLEDGED {
        println!("{msg}");
    } else {
        eprintln!("breakglass: {msg}");
    }
    code
}
