//! Building the Raft poller's [`NodeAccess`] from the command line: the token
//! (`--openbao-token-file`, else `$BAO_TOKEN`) and the route (the pod proxy, or
//! `--openbao-addr-template` with the CA from `--openbao-ca` or Secret `<cluster>-tls-ca`).
//!
//! When the pod proxy is forbidden, [`NodeAccess::port_forward`] gives the port-forward
//! route, with the same CA.
//!
//! The token file is re-read every poll round ([`NodeAccess::refresh_token`]): a rotated
//! token is picked up, and the demo swaps the simulated root token for the real nodes' one.

use std::path::{Path, PathBuf};

use kube::Client;

use super::openbao_http::{Direct, NodeAccess, Route, cluster_ca};
use super::openbao_portforward::PortForward;
use crate::domain::token::OpenBaoToken;

/// The environment variable read when no token file is given (as the `bao` CLI does).
pub(crate) const TOKEN_ENV: &str = "BAO_TOKEN";

/// What the command line says about reaching OpenBao.
#[derive(Debug, Clone, Default)]
pub struct AccessOptions {
    pub token_file: Option<PathBuf>,
    pub addr_template: Option<String>,
    pub ca_file: Option<PathBuf>,
}

fn read_ca_file(f: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(f).map_err(|e| format!("cannot read the OpenBao CA file {}: {e}", f.display()))
}

/// The token in `path` (surrounding whitespace ignored). The error names the file, never
/// its content.
pub fn read_token_file(path: &Path) -> Result<OpenBaoToken, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the OpenBao token file {}: {e}", path.display()))?;
    OpenBaoToken::new(text)
        .ok_or_else(|| format!("the OpenBao token file {} is empty", path.display()))
}

impl NodeAccess {
    /// Re-read the token file, if there is one; a failed read keeps the last token.
    pub(crate) fn refresh_token(&mut self) {
        if let Some(token) = self
            .token_file
            .as_deref()
            .and_then(|f| read_token_file(f).ok())
        {
            self.token = Some(token);
        }
    }

    /// This access by port-forward instead: TLS against `--openbao-ca` or Secret
    /// `<cluster>-tls-ca` when there is one, plain HTTP otherwise.
    pub(crate) async fn port_forward(
        &self,
        client: &Client,
        namespace: &str,
        cluster: &str,
    ) -> Result<NodeAccess, String> {
        let ca = match &self.ca_file {
            Some(f) => Some(read_ca_file(f)?),
            None => cluster_ca(client, namespace, cluster).await,
        };
        Ok(NodeAccess {
            route: Route::PortForward(PortForward::new(ca.as_deref())?),
            ..self.clone()
        })
    }
}

/// The access the options ask for. `env_token`: `$BAO_TOKEN` (passed in, so tests and the
/// demo do not depend on the environment).
pub async fn node_access(
    client: &Client,
    namespace: &str,
    cluster: &str,
    options: &AccessOptions,
    env_token: Option<String>,
) -> Result<NodeAccess, String> {
    let token = match &options.token_file {
        Some(f) => Some(read_token_file(f)?),
        None => env_token.and_then(OpenBaoToken::new),
    };
    let route = match &options.addr_template {
        None => Route::PodProxy,
        Some(template) => {
            let ca = match &options.ca_file {
                Some(f) => Some(read_ca_file(f)?),
                None if template.starts_with("https://") => {
                    cluster_ca(client, namespace, cluster).await
                }
                None => None,
            };
            Route::Direct(Direct::new(template, ca.as_deref())?)
        }
    };
    Ok(NodeAccess {
        route,
        token,
        token_file: options.token_file.clone(),
        ca_file: options.ca_file.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_file_is_read_trimmed_and_refreshed() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("token");
        assert!(read_token_file(&f).unwrap_err().contains("cannot read"));
        std::fs::write(&f, "\n").unwrap();
        let e = read_token_file(&f).unwrap_err();
        assert!(e.contains("is empty"), "{e}");
        std::fs::write(&f, "s.first\n").unwrap();
        let mut access = NodeAccess {
            token_file: Some(f.clone()),
            ..NodeAccess::default()
        };
        access.refresh_token();
        assert_eq!(
            access.token.as_ref().map(OpenBaoToken::expose),
            Some("s.first")
        );
        std::fs::write(&f, "s.second").unwrap();
        access.refresh_token();
        assert_eq!(
            access.token.as_ref().map(OpenBaoToken::expose),
            Some("s.second")
        );
        std::fs::remove_file(&f).unwrap();
        access.refresh_token();
        assert_eq!(
            access.token.as_ref().map(OpenBaoToken::expose),
            Some("s.second"),
            "a failed read keeps the last token"
        );
    }
}
