//! Why a write is not made: one typed reason, one text for screen, CLI and journal.

use std::fmt;

/// Why a write was not made (nothing was sent). The texts say what holds now; the caller
/// adds where it is shown ("Retry unavailable: …", "refused: …; nothing was sent").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The console is read-only (write mode not entered, or expired); `key` enters it.
    ReadOnly {
        key: char,
    },
    /// Another request of this session is not answered yet.
    InFlight,
    /// The OpenBaoCluster does not exist.
    ClusterMissing,
    /// The OpenBaoCluster has not been read yet.
    NoClusterData,
    /// The data the judgement rests on is stale: `source`'s label and its age (None: never read).
    Stale {
        source: &'static str,
        age: Option<i64>,
    },
    /// The latest cluster object does not parse.
    Unparseable,
    /// The object could not be read for the judgement.
    Unreadable(String),
    BreakGlassInactive,
    NoNonce,
    NoResourceVersion,
    /// The nonce confirmed is not the one break glass carries now.
    NonceChanged {
        confirmed: String,
        current: String,
    },
    /// The RBAC preflight says `who` may not `verb` `resource`.
    Forbidden {
        who: String,
        verb: String,
        resource: String,
    },
    /// The path is not offered for the operator line detected (its header).
    WrongLine {
        path: &'static str,
        line: String,
    },
    /// A forced restore created here is not finished.
    RestoreRunning {
        name: String,
        phase: String,
    },
    /// A restore holds the cluster (`openbao.org/restore-hold`, the restore's uid).
    RestoreHold {
        uid: String,
    },
    /// Break glass was acknowledged and the rollback it started is running (`phase`).
    RollbackRunning {
        phase: String,
    },
    /// The revert is a post-rollback step; `deletes_green`: on this line reverting then
    /// acknowledging deletes Green without Raft repair.
    BreakGlassActive {
        deletes_green: bool,
    },
    BlueVersionUnknown,
    AlreadyBlue {
        version: String,
    },
    BlueImageUnknown,
    /// `spec.version` is not the one the revert was confirmed from.
    VersionChanged {
        from: String,
        to: String,
    },
    AlreadyPaused,
    NotPaused,
    /// The object changed since the body was built (its resourceVersion moved on).
    Changed {
        from: String,
        to: String,
    },
    /// `breakglass ack` was not confirmed.
    NotConfirmed,
    NoRestoreFollowed,
    RestoreStatusUnread,
    RestoreNotUnknown {
        name: String,
        phase: String,
    },
    RestoreUidUnknown,
    RestoreResourceVersionUnknown,
    /// The OpenBaoRestore was replaced (another uid) since it was confirmed.
    RestoreReplaced,
    /// A request body that cannot be sent as it is.
    InvalidBody(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::ReadOnly { key } => write!(
                f,
                "read-only mode: press {key} in the Decision pane to allow writes for 5 minutes"
            ),
            Refusal::InFlight => f.write_str("a request is in flight"),
            Refusal::ClusterMissing => f.write_str("the cluster was not found"),
            Refusal::NoClusterData => f.write_str("no cluster data yet"),
            Refusal::Stale { source, age } => match age {
                Some(a) => write!(f, "{source} data is stale ({a} s old)"),
                None => write!(f, "{source} data is stale (never read)"),
            },
            Refusal::Unparseable => f.write_str("the latest cluster object does not parse"),
            Refusal::Unreadable(e) => write!(f, "cannot read the cluster: {e}"),
            Refusal::BreakGlassInactive => f.write_str("break glass is not active"),
            Refusal::NoNonce => f.write_str("break glass has no nonce"),
            Refusal::NoResourceVersion => f.write_str("the cluster has no resourceVersion"),
            Refusal::NonceChanged { confirmed, current } => write!(
                f,
                "the nonce changed ({confirmed} → {current}): {confirmed} is stale, a new failure happened; review it"
            ),
            Refusal::Forbidden {
                who,
                verb,
                resource,
            } => write!(f, "forbidden: {who} may not {verb} {resource}"),
            Refusal::WrongLine { path, line } => write!(
                f,
                "{path} is not offered for {line}: upstream's runbook for it is for the 0.6 line"
            ),
            Refusal::RestoreRunning { name, phase } => write!(
                f,
                "OpenBaoRestore {name} is not finished ({phase}): never acknowledge while a forced restore runs"
            ),
            Refusal::RestoreHold { uid } => write!(
                f,
                "a restore (uid {uid}) holds the cluster (openbao.org/restore-hold): never acknowledge while it runs"
            ),
            Refusal::RollbackRunning { phase } => write!(
                f,
                "break glass was acknowledged and the rollback is running ({phase}): never start a forced restore alongside it"
            ),
            Refusal::BreakGlassActive { deletes_green: false } => f.write_str(
                "break glass is active: the revert is a post-rollback step (it is not an escape hatch); Retry first",
            ),
            Refusal::BreakGlassActive { deletes_green: true } => f.write_str(
                "break glass is active: reverting then acknowledging deletes Green without Raft repair on 0.1 (see Fix forward); Retry first",
            ),
            Refusal::BlueVersionUnknown => {
                f.write_str("status.currentVersion (Blue's version) is unknown")
            }
            Refusal::AlreadyBlue { version } => {
                write!(f, "spec.version already is Blue's {version}")
            }
            Refusal::BlueImageUnknown => {
                f.write_str("spec.image is set but status.blueGreen.blueImage is unknown")
            }
            Refusal::VersionChanged { from, to } => {
                write!(f, "spec.version changed ({from} → {to}): review it")
            }
            Refusal::AlreadyPaused => f.write_str("the cluster is already paused: review it"),
            Refusal::NotPaused => {
                f.write_str("the cluster is not paused (someone resumed it): review it")
            }
            Refusal::Changed { from, to } => write!(
                f,
                "the cluster changed since the body was built (resourceVersion {from} → {to}): review the fresh one"
            ),
            Refusal::NotConfirmed => f.write_str("not confirmed"),
            Refusal::NoRestoreFollowed => {
                f.write_str("no restore created by this console is followed")
            }
            Refusal::RestoreStatusUnread => {
                f.write_str("the followed restore's status is not read yet")
            }
            Refusal::RestoreNotUnknown { name, phase } => write!(
                f,
                "OpenBaoRestore {name} is not in phase Unknown (now {phase})"
            ),
            Refusal::RestoreUidUnknown => f.write_str("the restore's uid is unknown"),
            Refusal::RestoreResourceVersionUnknown => {
                f.write_str("the restore's resourceVersion is unknown")
            }
            Refusal::RestoreReplaced => {
                f.write_str("the OpenBaoRestore was replaced (its uid changed)")
            }
            Refusal::InvalidBody(e) => write!(f, "the request body cannot be sent: {e}"),
        }
    }
}

impl Refusal {
    /// The RBAC preflight's denial (`permission` is e.g. `patch openbaoclusters.openbao.org
    /// in security`) as a refusal.
    pub fn forbidden(who: &str, permission: &str) -> Refusal {
        let (verb, resource) = permission.split_once(' ').unwrap_or((permission, ""));
        Refusal::Forbidden {
            who: who.to_string(),
            verb: verb.to_string(),
            resource: resource.to_string(),
        }
    }

    /// Whether the CLI reports it as forbidden (exit status 5) rather than refused.
    pub(crate) fn is_forbidden(&self) -> bool {
        matches!(self, Refusal::Forbidden { .. })
    }
}
