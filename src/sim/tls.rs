//! TLS for the simulator's API server, and the kubeconfig that points clients at it.
//!
//! Each run makes its own CA and a server certificate for `127.0.0.1`/`localhost`, so
//! clients (kube-rs, kubectl) verify the server exactly as they would a real cluster:
//! no `insecure-skip-tls-verify`. The kubeconfig carries the CA as
//! `certificate-authority-data` and one bearer-token user per simulated identity.

use std::path::Path;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::server::SimError;

/// A per-run CA and the server's rustls configuration.
pub struct ServerTls {
    pub ca_pem: String,
    pub config: Arc<rustls::ServerConfig>,
}

fn tls_err(e: impl std::fmt::Display) -> SimError {
    SimError::Tls(e.to_string())
}

/// Make a CA and a server certificate for 127.0.0.1 and localhost.
pub fn server_tls() -> Result<ServerTls, SimError> {
    let ca_key = KeyPair::generate().map_err(tls_err)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(tls_err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "breakglass-sim-ca");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(tls_err)?;
    let issuer = Issuer::from_params(&ca_params, &ca_key);

    let key = KeyPair::generate().map_err(tls_err)?;
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .map_err(tls_err)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let cert = params.signed_by(&key, &issuer).map_err(tls_err)?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = vec![
        CertificateDer::from(cert.der().to_vec()),
        CertificateDer::from(ca_cert.der().to_vec()),
    ];
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(tls_err)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(ServerTls {
        ca_pem: ca_cert.pem(),
        config: Arc::new(config),
    })
}

/// Standard base64 (with padding), for `certificate-authority-data`.
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let idx = [(n >> 18) & 63, (n >> 12) & 63, (n >> 6) & 63, n & 63];
        for (i, x) in idx.iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(T[*x as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One kubeconfig context: a user and its default namespace.
#[derive(Debug, Clone)]
pub struct KubeconfigContext {
    pub context: String,
    pub user: String,
    pub token: String,
    pub namespace: String,
}

/// The kubeconfig YAML for a server at `server` (https URL) with the given contexts; the
/// first context is `current-context`.
pub fn kubeconfig_yaml(server: &str, ca_pem: &str, contexts: &[KubeconfigContext]) -> String {
    let ca = base64(ca_pem.as_bytes());
    let mut y = String::new();
    y.push_str("apiVersion: v1\nkind: Config\nclusters:\n");
    y.push_str(&format!(
        "- name: sim\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\n"
    ));
    y.push_str("contexts:\n");
    for c in contexts {
        y.push_str(&format!(
            "- name: {}\n  context:\n    cluster: sim\n    user: {}\n    namespace: {}\n",
            c.context, c.user, c.namespace
        ));
    }
    y.push_str("users:\n");
    for c in contexts {
        y.push_str(&format!(
            "- name: {}\n  user:\n    token: {}\n",
            c.user, c.token
        ));
    }
    if let Some(first) = contexts.first() {
        y.push_str(&format!("current-context: {}\n", first.context));
    }
    y.push_str("preferences: {}\n");
    y
}

/// Write a kubeconfig file (mode 0600: it holds tokens).
pub fn write_kubeconfig(path: &Path, yaml: &str) -> Result<(), SimError> {
    std::fs::write(path, yaml).map_err(|e| SimError::Io(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (i, o) in cases {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn makes_ca_and_server_config() {
        let t = server_tls().unwrap();
        assert!(t.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(t.config.alpn_protocols.len(), 2);
    }
}
