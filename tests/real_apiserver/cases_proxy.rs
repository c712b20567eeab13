//! The pod proxy, the route the console reaches each OpenBao node by, on the real server:
//! a TLS responder listening on a pod's IP (inside the namespace's range) answers the
//! console's `NodeAccess::get` through `pods/proxy`, with the token header passed on; and a
//! pod whose IP is loopback is refused by the real server (`IsProxyableIP`), the trap the
//! namespace's own address range exists for.

use std::sync::{Arc, Mutex};

use breakglass::domain::token::OpenBaoToken;
use breakglass::sources::openbao_http::NodeAccess;
use kube::api::{Api, Patch, PatchParams};
use rcgen::{CertificateParams, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::incident;
use super::rig::Rig;

const LEADER: &str = r#"{"ha_enabled":true,"is_self":true,"leader_address":"https://x:8200","raft_committed_index":42,"raft_applied_index":41}"#;

/// Serve one fixed `sys/leader` answer over TLS on `ip:8200`; the request heads seen are kept.
async fn responder(ip: &str) -> (tokio::task::JoinHandle<()>, Arc<Mutex<Vec<String>>>) {
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec![ip.to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![CertificateDer::from(cert.der().to_vec())],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind(format!("{ip}:8200")).await.unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                continue;
            };
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match tls.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&head).to_string());
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{LEADER}",
                LEADER.len()
            );
            let _ = tls.write_all(resp.as_bytes()).await;
            let _ = tls.shutdown().await;
        }
    });
    (task, seen)
}

pub async fn pod_proxy_reaches_a_node_on_its_pod_ip(rig: Arc<Rig>, ns: String) {
    let admin = rig.client("admin").await.unwrap();
    let incident = incident::incident(&rig, "transient", &ns).await;
    let cluster = incident.scenario.cluster.clone();
    let topo = breakglass::sim::scenario::Topology::of(&incident.scenario);
    let (pod, other) = (topo.pod(true, 0), topo.pod(true, 1));
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(admin.clone(), &ns);
    let ip = pods
        .get(&pod)
        .await
        .unwrap()
        .status
        .unwrap()
        .pod_ip
        .unwrap();
    assert!(ip.starts_with("198.51.100."), "{ip}");
    let (server, seen) = responder(&ip).await;

    let viewer = rig.client("viewer").await.unwrap();
    let access = NodeAccess {
        token: OpenBaoToken::new("s.rig-token"),
        ..NodeAccess::default()
    };
    let answer = access
        .get(&viewer, &ns, &cluster, &pod, "/v1/sys/leader", true)
        .await
        .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    let v: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(v["raft_committed_index"], 42);
    let heads = seen.lock().unwrap().clone();
    assert!(
        heads.iter().any(|h| h.starts_with("GET /v1/sys/leader")),
        "{heads:?}"
    );
    assert!(
        heads.iter().any(|h| h
            .to_ascii_lowercase()
            .contains("x-vault-token: s.rig-token")),
        "the token header was not passed on: {heads:?}"
    );
    server.abort();

    // A loopback pod IP: the real server refuses to proxy to it.
    let loopback = pods
        .patch_status(
            &other,
            &PatchParams::default(),
            &Patch::Merge(
                json!({"status": {"podIP": "127.0.0.5", "podIPs": [{"ip": "127.0.0.5"}]}}),
            ),
        )
        .await;
    match loopback {
        Ok(_) => {
            let a = access
                .get(&viewer, &ns, &cluster, &other, "/v1/sys/leader", false)
                .await
                .unwrap();
            assert_eq!(a.status, 400, "{}", a.body);
            assert!(a.body.contains("address not allowed"), "{}", a.body);
            println!(
                "  pod proxy to a loopback pod IP: {} {}",
                a.status,
                a.body.trim()
            );
            // Back inside the range, for the address check at the end.
            pods.patch_status(
                &other,
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"podIP": "198.51.100.254", "podIPs": [{"ip": "198.51.100.254"}]}})),
            )
            .await
            .unwrap();
        }
        // Newer servers may refuse the address in validation already: the trap holds too.
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 422, "{s:?}"),
        Err(e) => panic!("{e}"),
    }
}
