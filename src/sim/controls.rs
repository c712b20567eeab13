//! Test controls for the simulator's API server ([`Controls`]): users and their denied
//! verbs, injected HTTP errors, latency and held requests, watch closing, history expiry,
//! and the request log tests assert on ("a read-only session sent zero mutating requests").
//!
//! Not for users of the console: only tests and scenarios hold a `Controls`.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

use super::faults::Chaos;
use super::store::{Resource, Store};

/// How many requests the log keeps (the oldest tenth goes when full).
pub(crate) const REQUEST_LOG_LIMIT: usize = 100_000;

/// The mutating verbs a read-only user is denied.
pub const MUTATING_VERBS: [&str; 5] = ["create", "update", "patch", "delete", "deletecollection"];

/// An identity the API server accepts (bearer token) and what it may not do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub token: String,
    pub groups: Vec<String>,
    /// (verb, resource) pairs answered 403; verb `*` denies every verb. A denial covers the
    /// resource's subresources (status, scale, log, proxy) too.
    pub denied: Vec<(String, Resource)>,
    /// (verb, resource, subresource) triples answered 403, e.g. `get pods/proxy` while
    /// `create pods/portforward` stays allowed.
    pub denied_subresources: Vec<(String, Resource, String)>,
}

fn random_token(prefix: &str) -> String {
    let mut b = [0u8; 16];
    rand::fill(&mut b);
    format!("{prefix}-{}", hex::encode(b))
}

impl User {
    /// A user allowed everything.
    pub fn new(name: &str, token: &str) -> User {
        User {
            name: name.to_string(),
            token: token.to_string(),
            groups: vec!["system:authenticated".to_string()],
            denied: Vec::new(),
            denied_subresources: Vec::new(),
        }
    }

    /// `admin` (group `system:masters`) with a random token.
    pub fn admin() -> User {
        let mut u = User::new("admin", &random_token("admin"));
        u.groups.insert(0, "system:masters".to_string());
        u
    }

    /// A user denied every mutating verb on every resource.
    pub(crate) fn read_only(name: &str, token: &str) -> User {
        let mut u = User::new(name, token);
        for r in Resource::ALL {
            for v in MUTATING_VERBS {
                u.denied.push((v.to_string(), r));
            }
        }
        u
    }

    /// `viewer`, read-only, with a random token.
    pub fn viewer() -> User {
        User::read_only("viewer", &random_token("viewer"))
    }

    pub(crate) fn is_denied(&self, verb: &str, r: Resource) -> bool {
        self.denied
            .iter()
            .any(|(v, res)| *res == r && (v == verb || v == "*"))
    }

    /// [`User::is_denied`], or `verb` on this subresource of `r` denied.
    pub(crate) fn is_denied_sub(&self, verb: &str, r: Resource, sub: Option<&str>) -> bool {
        self.is_denied(verb, r)
            || sub.is_some_and(|sub| {
                self.denied_subresources
                    .iter()
                    .any(|(v, res, s)| *res == r && s == sub && (v == verb || v == "*"))
            })
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Empty when unauthenticated.
    pub user: String,
    pub status: u16,
    /// The request body exactly as received (None: no body was read), so a test can compare
    /// the bytes sent with what was shown and journaled.
    pub body: Option<String>,
}

impl RequestRecord {
    /// POST, PUT, PATCH or DELETE, excluding access and identity reviews (which change nothing).
    pub fn is_mutating(&self) -> bool {
        matches!(self.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE")
            && !self.path.ends_with("/selfsubjectaccessreviews")
            && !self.path.ends_with("/selfsubjectreviews")
    }
}

/// What an armed fault does to a request it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Injected {
    /// Answered with this status (a Status body) instead of being served.
    Status(u16),
    /// Held this long before it is served (a write in flight for that long).
    Hold(Duration),
}

#[derive(Debug, Clone)]
pub(crate) struct Fault {
    pub method: String,
    pub path_prefix: String,
    pub what: Injected,
    pub remaining: usize,
}

pub(crate) struct Shared {
    pub store: Arc<Store>,
    pub users: Mutex<Vec<User>>,
    pub faults: Mutex<Vec<Fault>>,
    pub latency: Mutex<Duration>,
    pub bookmark_interval: Mutex<Duration>,
    pub close_watches: watch::Sender<u64>,
    /// Bumped to end every open `pods/log` stream (a dropped follow).
    pub close_logs: watch::Sender<u64>,
    pub log: Mutex<Vec<RequestRecord>>,
    /// Hangs, refusals, 410 storms and outages (`faults`).
    pub chaos: Chaos,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(crate) fn new(store: Arc<Store>, users: Vec<User>) -> Shared {
        let (close_watches, _) = watch::channel(0);
        let (close_logs, _) = watch::channel(0);
        Shared {
            store,
            users: Mutex::new(users),
            faults: Mutex::new(Vec::new()),
            latency: Mutex::new(Duration::ZERO),
            bookmark_interval: Mutex::new(Duration::from_secs(2)),
            close_watches,
            close_logs,
            log: Mutex::new(Vec::new()),
            chaos: Chaos::new(),
        }
    }

    pub(crate) fn user_by_token(&self, token: &str) -> Option<User> {
        lock(&self.users).iter().find(|u| u.token == token).cloned()
    }

    /// The injected status for this request, if one is armed (and counts it down).
    pub(crate) fn take_fault(&self, method: &str, path: &str) -> Option<u16> {
        match self.take_matching(method, path, |w| matches!(w, Injected::Status(_)))? {
            Injected::Status(code) => Some(code),
            Injected::Hold(_) => None,
        }
    }

    /// How long to hold this request before serving it, if a hold is armed (counted down).
    pub(crate) fn take_hold(&self, method: &str, path: &str) -> Option<Duration> {
        match self.take_matching(method, path, |w| matches!(w, Injected::Hold(_)))? {
            Injected::Hold(d) => Some(d),
            Injected::Status(_) => None,
        }
    }

    /// The first armed fault of the `kind` wanted that matches the request, counted down.
    fn take_matching(
        &self,
        method: &str,
        path: &str,
        kind: impl Fn(&Injected) -> bool,
    ) -> Option<Injected> {
        let mut faults = lock(&self.faults);
        let idx = faults.iter().position(|f| {
            f.remaining > 0
                && kind(&f.what)
                && (f.method == "*" || f.method.eq_ignore_ascii_case(method))
                && path.starts_with(&f.path_prefix)
        })?;
        let f = &mut faults[idx];
        f.remaining -= 1;
        let what = f.what;
        if f.remaining == 0 {
            faults.remove(idx);
        }
        Some(what)
    }

    pub(crate) fn latency(&self) -> Duration {
        *lock(&self.latency)
    }

    pub(crate) fn bookmark_interval(&self) -> Duration {
        *lock(&self.bookmark_interval)
    }

    pub(crate) fn record(&self, r: RequestRecord) {
        let mut log = lock(&self.log);
        // A demo left running for hours must not grow without bound.
        if log.len() >= REQUEST_LOG_LIMIT {
            log.drain(..REQUEST_LOG_LIMIT / 10);
        }
        log.push(r);
    }
}

/// A cheap handle for tests to steer a running server.
#[derive(Clone)]
pub struct Controls {
    pub(crate) shared: Arc<Shared>,
}

impl Controls {
    pub fn store(&self) -> Arc<Store> {
        self.shared.store.clone()
    }

    /// The users the server accepts, with their current denials.
    pub fn users(&self) -> Vec<User> {
        lock(&self.shared.users).clone()
    }

    /// Answer `verb` on `r` with 403 for `user` from now on.
    pub fn deny(&self, user: &str, verb: &str, r: Resource) {
        let mut users = lock(&self.shared.users);
        if let Some(u) = users.iter_mut().find(|u| u.name == user)
            && !u.is_denied(verb, r)
        {
            u.denied.push((verb.to_string(), r));
        }
    }

    /// Answer `verb` on subresource `sub` of `r` (e.g. `get` `pods/proxy`) with 403 for
    /// `user` from now on; the resource itself and its other subresources stay allowed.
    pub fn deny_subresource(&self, user: &str, verb: &str, r: Resource, sub: &str) {
        let mut users = lock(&self.shared.users);
        if let Some(u) = users.iter_mut().find(|u| u.name == user)
            && !u.is_denied_sub(verb, r, Some(sub))
        {
            u.denied_subresources
                .push((verb.to_string(), r, sub.to_string()));
        }
    }

    /// Undo [`Controls::deny`] (also removes a `*` denial for `r`).
    pub fn allow(&self, user: &str, verb: &str, r: Resource) {
        let mut users = lock(&self.shared.users);
        if let Some(u) = users.iter_mut().find(|u| u.name == user) {
            u.denied
                .retain(|(v, res)| !(*res == r && (v == verb || v == "*")));
        }
    }

    /// Answer the next `times` requests whose method matches (`*` for any) and whose path
    /// starts with `path_prefix` with `status` (409, 429, 500, 503, ...) as a Status body.
    pub fn inject_error(&self, method: &str, path_prefix: &str, status: u16, times: usize) {
        self.arm(method, path_prefix, Injected::Status(status), times);
    }

    /// Hold the next `times` requests whose method matches (`*` for any) and whose path
    /// starts with `path_prefix` for `hold` before serving them (e.g. one PATCH of
    /// openbaoclusters kept in flight while the console quits); other requests are not
    /// slowed (unlike [`Controls::set_latency`]).
    pub fn hold_requests(&self, method: &str, path_prefix: &str, hold: Duration, times: usize) {
        self.arm(method, path_prefix, Injected::Hold(hold), times);
    }

    fn arm(&self, method: &str, path_prefix: &str, what: Injected, times: usize) {
        lock(&self.shared.faults).push(Fault {
            method: method.to_string(),
            path_prefix: path_prefix.to_string(),
            what,
            remaining: times,
        });
    }

    /// Delay every response by `d` (slow API server).
    pub fn set_latency(&self, d: Duration) {
        *lock(&self.shared.latency) = d;
    }

    /// How often watches with `allowWatchBookmarks=true` get a BOOKMARK.
    pub fn set_bookmark_interval(&self, d: Duration) {
        *lock(&self.shared.bookmark_interval) = d;
    }

    /// Expire every older resourceVersion and continue token (410 from now on).
    pub fn expire_history(&self) {
        self.shared.store.compact();
    }

    /// End every open watch stream (clients must re-watch).
    pub fn close_watches(&self) {
        self.shared
            .close_watches
            .send_modify(|n| *n = n.wrapping_add(1));
    }

    /// End every open pod log stream mid-follow (clients must resume).
    pub fn close_log_streams(&self) {
        self.shared
            .close_logs
            .send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Rotate a container's log (only the newest `keep` lines remain) and end the open
    /// streams: a follower that resumes finds lines it never saw missing.
    pub fn rotate_log(&self, ns: &str, pod: &str, container: &str, keep: usize) {
        self.shared.store.rotate_log(ns, pod, container, keep);
        self.close_log_streams();
    }

    /// Hang the server (true) or let it answer again (false): connections are accepted,
    /// requests never answered, open watch and log streams send nothing, until released.
    pub fn set_hung(&self, hung: bool) {
        self.shared.chaos.hung.send_replace(hung);
    }

    /// Stall (true) or release (false) the TLS handshake of every new connection.
    pub fn set_handshake_stalled(&self, stalled: bool) {
        self.shared.chaos.handshake_stalled.send_replace(stalled);
    }

    /// Refuse connections (true: the listening socket is closed and every open connection
    /// cut) or accept them again on the same address (false).
    pub fn set_refusing(&self, refusing: bool) {
        self.shared.chaos.refusing.send_replace(refusing);
    }

    /// Cut every open connection once (clients must connect, and handshake, again).
    pub fn cut_connections(&self) {
        self.shared
            .chaos
            .cut
            .send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Answer every watch with `410 Gone` (the in-stream ERROR kube-rs re-lists on) for `d`.
    pub fn watch_gone_for(&self, d: Duration) {
        self.shared.chaos.set_watch_gone_for(d);
    }

    /// Answer every authenticated request with `status` (500, 503, 429...) for `d`, with a
    /// `Retry-After` header of `retry_after` seconds when given.
    pub fn outage_for(&self, status: u16, d: Duration, retry_after: Option<u32>) {
        self.shared.chaos.set_outage(status, d, retry_after);
    }

    /// Give `user` a new random token: the old one is answered 401 from now on (a kubeconfig
    /// whose token expired mid-session).
    pub fn expire_token(&self, user: &str) {
        let mut users = lock(&self.shared.users);
        if let Some(u) = users.iter_mut().find(|u| u.name == user) {
            u.token = random_token("rotated");
        }
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.log).clone()
    }

    /// The mutating requests logged so far, one line each: `METHOD path?query -> status`
    /// (what a test asserts was, or was not, sent).
    pub fn mutations(&self) -> Vec<String> {
        lock(&self.shared.log)
            .iter()
            .filter(|r| r.is_mutating())
            .map(|r| format!("{} {}?{} -> {}", r.method, r.path, r.query, r.status))
            .collect()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    pub fn append_log(&self, ns: &str, pod: &str, container: &str, line: &str) {
        self.shared.store.append_log(ns, pod, container, line);
    }

    pub fn terminate_log(&self, ns: &str, pod: &str, container: &str) {
        self.shared.store.terminate_log(ns, pod, container);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_count_down_and_users_toggle() {
        let s = Shared::new(Store::new(), vec![User::new("a", "t")]);
        let c = Controls {
            shared: Arc::new(s),
        };
        c.inject_error("PATCH", "/apis/openbao.org", 503, 2);
        assert_eq!(c.shared.take_fault("GET", "/apis/openbao.org/x"), None);
        assert_eq!(
            c.shared.take_fault("patch", "/apis/openbao.org/x"),
            Some(503)
        );
        assert_eq!(
            c.shared.take_fault("PATCH", "/apis/openbao.org/x"),
            Some(503)
        );
        assert_eq!(c.shared.take_fault("PATCH", "/apis/openbao.org/x"), None);
        // A hold and an error armed for the same requests do not take each other's turn.
        let hold = Duration::from_secs(3);
        c.hold_requests("PATCH", "/apis/openbao.org", hold, 1);
        c.inject_error("PATCH", "/apis/openbao.org", 500, 1);
        assert_eq!(c.shared.take_hold("GET", "/apis/openbao.org/x"), None);
        assert_eq!(
            c.shared.take_fault("PATCH", "/apis/openbao.org/x"),
            Some(500)
        );
        assert_eq!(
            c.shared.take_hold("PATCH", "/apis/openbao.org/x"),
            Some(hold)
        );
        assert_eq!(c.shared.take_hold("PATCH", "/apis/openbao.org/x"), None);
        c.deny("a", "patch", Resource::Pods);
        assert!(c.users()[0].is_denied("patch", Resource::Pods));
        c.allow("a", "patch", Resource::Pods);
        assert!(!c.users()[0].is_denied("patch", Resource::Pods));
        assert!(User::viewer().is_denied("delete", Resource::OpenBaoClusters));
        assert!(!User::viewer().is_denied("get", Resource::OpenBaoClusters));
    }
}
