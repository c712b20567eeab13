//! Pure domain model: what the console knows about the incident. No I/O, no UI, no tokio.
//!
//! Sources parse Kubernetes objects into these views; `app::update` stores them; `ui`
//! renders them; `status` prints them.

pub mod cluster;
pub mod controls;
pub mod diagnosis;
pub mod event_evidence;
pub mod events;
pub mod generation;
pub mod incident;
pub mod naming;
pub mod path_truth;
pub mod paths;
pub mod quorum;
pub mod raft;
pub mod raft_history;
pub mod raft_members;
pub mod restore;
pub mod restore_status;
pub mod rollback_cleanup;
pub mod rollback_jobs;
pub mod token;
pub mod write;

pub use cluster::{BlueGreenView, BreakGlassView, ClusterView, ConditionView};
pub use incident::{Incident, JobState, JobView, PodView, Side};
pub use raft::RaftReading;
pub use raft_members::{Membership, RaftSnapshot};
