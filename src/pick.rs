//! Finding the incident when no CLUSTER was named: list the OpenBaoClusters of the scope,
//! open the one `domain::discovery` chooses or run the picker full screen until the user
//! opens one or quits; and `status` without CLUSTER, the same list printed.

use crossterm::event::Event;
use futures::StreamExt;
use jiff::Timestamp;

use std::process::ExitCode;

use color_eyre::eyre::{Result, WrapErr, eyre};

use crate::app::picker::{Picker, PickerOutcome};
use crate::domain::discovery::{self, Choice};
use crate::sources::connect::Connection;
use crate::sources::discover;
use crate::status_list;
use crate::terminal::{StopSignals, TerminalGuard};
use crate::ui;

/// The `(namespace, name)` picked with the terminal still full screen (the console goes on
/// with the same guard), or None when the user quit.
pub async fn run(
    mut picker: Picker,
    color: bool,
) -> Result<Option<(String, String, TerminalGuard)>> {
    let mut guard = TerminalGuard::enter()?;
    let mut stop = StopSignals::new()?;
    let theme = ui::theme::Theme { color };
    loop {
        guard
            .terminal
            .draw(|f| ui::picker::render(&picker, theme, Timestamp::now(), f))
            .wrap_err("cannot draw")?;
        let key = tokio::select! {
            ev = guard.input.next() => match ev {
                Some(Ok(Event::Key(k))) => k,
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e).wrap_err("terminal input failed"),
                None => return Ok(None),
            },
            () = stop.recv() => return Ok(None),
        };
        match picker.update(key) {
            PickerOutcome::Continue => {}
            PickerOutcome::Quit => return Ok(None),
            PickerOutcome::Open { namespace, name } => {
                return Ok(Some((namespace, name, guard)));
            }
        }
    }
}

/// `status` without CLUSTER: the list of the connection's scope (its namespace, or all with
/// `-A`), as a table or JSON (`json`), and its exit status.
pub async fn status_list(conn: &Connection, json: bool) -> Result<ExitCode> {
    let scope = conn.scope();
    let rows = discover::list_clusters(&conn.client, &scope, &conn.user).await?;
    let now = Timestamp::now();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&status_list::to_json(&rows, &scope, now))?
        );
    } else {
        print!("{}", status_list::to_text(&rows, &scope, now));
    }
    Ok(status_list::exit_code(&rows).into())
}

/// The cluster the console opens when none was named (None: the user quit the picker).
pub struct Found {
    pub namespace: String,
    pub name: String,
    pub why: String,
    /// The picker's terminal, still full screen, for the console to go on with.
    pub guard: Option<TerminalGuard>,
}

pub(crate) async fn find_incident(conn: &Connection, color: bool) -> Result<Option<Found>> {
    let scope = conn.scope();
    let rows = discover::list_clusters(&conn.client, &scope, &conn.user).await?;
    match discovery::choose(rows, &scope) {
        Choice::Open {
            namespace,
            name,
            why,
        } => Ok(Some(Found {
            namespace,
            name,
            why,
            guard: None,
        })),
        Choice::NoneFound { searched } => Err(eyre!(
            "no OpenBaoClusters found in {searched} (context {}){}",
            conn.context,
            if conn.all_namespaces {
                ""
            } else {
                "; try -A for every namespace, or -n NAMESPACE"
            }
        )),
        Choice::Pick(rows) => {
            let picker = Picker::new(rows, scope.describe());
            Ok(run(picker, color)
                .await?
                .map(|(namespace, name, guard)| Found {
                    namespace,
                    name,
                    why: format!("picked from {}", scope.describe()),
                    guard: Some(guard),
                }))
        }
    }
}
