//! The runtime: everything between the pure `app::update` and the world, without a
//! terminal. It owns the sources (their events and a 1 s clock become [`Msg`]s, see
//! [`Runtime::next_msg`]), feeds each `Msg` to `update` ([`Runtime::step`]), runs the
//! effects that reach the cluster or the disk (`Patch`, `WizardSend`, `LoadRestoreFacts`,
//! `FollowRestore`, `Journal`) and hands back the ones that belong to the terminal
//! (`Quit`, and whatever writes to the terminal) in [`Step::terminal`].
//!
//! The terminal loop (`tui`) is input + drawing around it; the headless tests drive the same
//! runtime with keys and read the simulator's request log and the `State`.
//!
//! Ownership: the sources' tasks stop when the runtime is dropped (and a restore follower
//! when the next one starts, the Restore wizard's facts read when the next read starts);
//! confirmed writes run in a `JoinSet` that [`Runtime::shutdown`] lets finish, within a
//! bound, before the journal is flushed.

mod effects;
mod sources;

use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{Interval, MissedTickBehavior};

use crate::app::msg::{SourceEvent, SourceName};
use crate::app::{Effect, Msg, State, update};
use crate::sources::connect::Connection;
use crate::sources::logfollow::FollowOptions;
use crate::sources::openbao_http::NodeAccess;
use effects::{JournalBatch, Replies, Write};
use sources::{Slot, Sources};

/// How long [`Runtime::shutdown`] waits for writes in flight and the journal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What one [`Runtime::step`] leaves to the caller.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// The effects only the terminal can carry out (`Effect::Quit`, …), in order.
    pub terminal: Vec<Effect>,
}

impl Step {
    /// The user asked to quit.
    pub fn quits(&self) -> bool {
        self.terminal.contains(&Effect::Quit)
    }
}

/// What the console runs on: the connection, the sources and the effect tasks.
pub struct Runtime {
    conn: Connection,
    cluster: String,
    follow: FollowOptions,
    tx: mpsc::Sender<SourceEvent>,
    rx: mpsc::Receiver<SourceEvent>,
    clock: Interval,
    sources: Sources,
    /// Writes started by effects (let finish on shutdown).
    tasks: JoinSet<()>,
    /// The Restore wizard's facts being read (at most one read at a time).
    restore_facts: Slot,
    journal_tx: mpsc::Sender<JournalBatch>,
    journal_writer: JoinHandle<()>,
    /// The incident journal, once `update` named it (write requests are journaled there).
    journal_path: Option<PathBuf>,
}

impl Runtime {
    /// Start every source on `cluster` (`access`: how the Raft poller reaches OpenBao;
    /// `follow`: where log evidence is saved). Needs a tokio runtime.
    pub fn start(
        conn: Connection,
        access: NodeAccess,
        cluster: &str,
        follow: FollowOptions,
    ) -> Runtime {
        let (tx, rx) = mpsc::channel::<SourceEvent>(1024);
        let sources = Sources::start(&conn, access, cluster, &tx, follow.clone());
        let (journal_tx, journal_writer) = effects::spawn_journal_writer(tx.clone());
        let mut clock = tokio::time::interval(Duration::from_secs(1));
        // A stalled loop catches up with one tick, not a burst of them.
        clock.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Runtime {
            conn,
            cluster: cluster.to_string(),
            follow,
            tx,
            rx,
            clock,
            sources,
            tasks: JoinSet::new(),
            restore_facts: Slot::default(),
            journal_tx,
            journal_writer,
            journal_path: None,
        }
    }

    /// The next message from the sources or the clock (`Msg::Tick` about once a second).
    /// Cancel-safe: a caller may `select!` it against terminal input.
    pub async fn next_msg(&mut self) -> Msg {
        loop {
            tokio::select! {
                Some(ev) = self.rx.recv() => return Msg::Source(ev),
                _ = self.clock.tick() => return Msg::Tick(Timestamp::now()),
                Some(done) = self.tasks.join_next(), if !self.tasks.is_empty() => {
                    if let Err(e) = done {
                        tracing::warn!("an effect task failed: {e}");
                    }
                }
            }
        }
    }

    /// A source event already waiting, if any (to fold a burst into one frame).
    pub fn try_msg(&mut self) -> Option<Msg> {
        self.rx.try_recv().ok().map(Msg::Source)
    }

    /// Feed `msg` to `update`, point the log follower at the Jobs the incident follows, and
    /// run the effects; the terminal's effects are handed back.
    pub fn step(&mut self, state: &mut State, msg: Msg) -> Step {
        let effects = update(state, msg);
        // The follower streams the current operation's rollback Jobs, found by meaning
        // (exact run IDs, the Job break glass names), not every executor Job.
        self.sources.follow_jobs(state.incident.followed_jobs());
        let mut step = Step::default();
        for effect in effects {
            if let Some(theirs) = self.run(effect) {
                step.terminal.push(theirs);
            }
        }
        step
    }

    /// Run one effect; answers the effect back when it belongs to the terminal.
    pub fn run(&mut self, effect: Effect) -> Option<Effect> {
        match effect {
            Effect::Patch(patch) => self.write(Write::Patch(patch)),
            Effect::WizardSend(request) => self.write(Write::Wizard(request)),
            // Reads only: a newer request replaces one still running.
            Effect::LoadRestoreFacts => self.restore_facts.replace(effects::spawn_restore_facts(
                &self.conn,
                &self.cluster,
                &self.tx,
            )),
            Effect::FollowRestore { namespace, name } => self.sources.follow_restore(
                &self.conn,
                (namespace, name),
                &self.tx,
                self.follow.clone(),
            ),
            Effect::Journal { path, entries } => {
                self.journal_path = Some(path.clone());
                // Never block the UI: a full queue drops entries, and says so.
                if self.journal_tx.try_send((path, entries)).is_err() {
                    let _ = self.tx.try_send(SourceEvent::Problem {
                        source: SourceName::Journal,
                        message: "journal queue full: entries dropped".into(),
                    });
                }
            }
            // Everything else is the terminal's (quitting, writing to the terminal).
            theirs => return Some(theirs),
        }
        None
    }

    fn write(&mut self, write: Write) {
        let replies = Replies {
            tx: &self.tx,
            journal: &self.journal_tx,
            path: self.journal_path.clone(),
        };
        effects::spawn_write(&mut self.tasks, &self.conn, write, replies);
    }

    /// Whether the restore follower runs (at most one does).
    pub fn follows_a_restore(&self) -> bool {
        self.sources.restore.is_running()
    }

    /// How many long-running sources still run.
    pub fn sources_running(&self) -> usize {
        self.sources.running()
    }

    /// Stop: the sources at once, then let writes in flight finish and the journal be
    /// written, within [`SHUTDOWN_GRACE`] (a confirmed patch is not cut between its dry run
    /// and its send, and what was sent is journaled). Returns whether everything finished.
    pub async fn shutdown(self) -> bool {
        let Runtime {
            sources,
            mut tasks,
            journal_tx,
            journal_writer,
            rx,
            tx,
            ..
        } = self;
        drop(sources);
        // Outcomes are no longer shown; writes must not wait for a reader.
        drop(rx);
        drop(tx);
        drop(journal_tx);
        let finished = tokio::time::timeout(SHUTDOWN_GRACE, async move {
            while tasks.join_next().await.is_some() {}
            let _ = journal_writer.await;
        })
        .await;
        finished.is_ok()
    }
}
