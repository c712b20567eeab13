//! `pods/{name}/portforward` as the API server serves kube-rs's client: a WebSocket upgrade
//! with subprotocol `v4.channel.k8s.io` (authorized as `create` on `pods/portforward`, see
//! `authz::verb`). Per port a data channel (0) and an error channel (1); the first frame
//! on each carries the port as 2 little-endian bytes; every later frame is the channel
//! byte followed by data.
//!
//! Behind it: the TCP address the [`PodProxy`] names for the pod and port (a real `bao`
//! node). Simulated endpoints answer HTTP only, so a forward to one reports on the error
//! channel, as a kubelet does when nothing listens. One port per forward (all the console
//! asks for).
//!
//! [`PodProxy`]: super::openbao::PodProxy

use std::net::SocketAddr;

use futures::{SinkExt, StreamExt};
use hyper::body::Incoming;
use hyper::header::{
    CONNECTION, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL,
    UPGRADE,
};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

use super::error::ApiError;
use super::select::Query;
use super::server::{Ctx, Resp, Target, error_resp, full};
use super::store::Resource;

/// The only subprotocol served (kube-rs 5 offers v5 and v4; v4 needs no close frames).
pub(crate) const PROTOCOL: &str = "v4.channel.k8s.io";

/// Upgrade `req` and forward its one port; errors are the API server's `Status` answers.
pub(crate) fn portforward(ctx: &Ctx, t: &Target, q: &Query, req: Request<Incoming>) -> Resp {
    let ns = t.ns.clone().unwrap_or_default();
    let pod = t.name.clone().unwrap_or_default();
    if t.r != Resource::Pods || ctx.store().get(Resource::Pods, &ns, &pod).is_none() {
        return error_resp(&ApiError::not_found(Resource::Pods, &pod));
    }
    let port = match q.get("ports").map(str::parse::<u16>) {
        Some(Ok(p)) => p,
        _ => {
            return error_resp(&ApiError::bad_request(
                "exactly one port (ports=N) per forward in the simulator",
            ));
        }
    };
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    let offered =
        header(SEC_WEBSOCKET_PROTOCOL).is_some_and(|p| p.split(',').any(|p| p.trim() == PROTOCOL));
    let upgrade = header(UPGRADE).is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    let (Some(key), true, true) = (header(SEC_WEBSOCKET_KEY), offered, upgrade) else {
        return error_resp(&ApiError::bad_request(format!(
            "port-forward needs a WebSocket upgrade with subprotocol {PROTOCOL}"
        )));
    };
    let accept = derive_accept_key(key.as_bytes());
    let backend = ctx
        .proxy
        .as_ref()
        .and_then(|p| p.forward_addr(&ns, &pod, port));
    let upgraded = hyper::upgrade::on(req);
    tokio::spawn(async move {
        let Ok(io) = upgraded.await else { return };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(io), Role::Server, None).await;
        forward(ws, &pod, port, backend).await;
    });
    let mut resp = full(101, "", "");
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = resp.headers_mut();
    headers.remove(hyper::header::CONTENT_TYPE);
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(PROTOCOL));
    if let Ok(v) = HeaderValue::from_str(&accept) {
        headers.insert(SEC_WEBSOCKET_ACCEPT, v);
    }
    resp
}

/// A frame on `channel`.
fn frame(channel: u8, data: &[u8]) -> Message {
    let mut bin = Vec::with_capacity(data.len() + 1);
    bin.push(channel);
    bin.extend_from_slice(data);
    Message::binary(bin)
}

async fn forward<S>(ws: WebSocketStream<S>, pod: &str, port: u16, backend: Option<SocketAddr>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut sink, mut stream) = ws.split();
    let prefix = port.to_le_bytes();
    if sink.send(frame(0, &prefix)).await.is_err() || sink.send(frame(1, &prefix)).await.is_err() {
        return;
    }
    let tcp = match backend {
        Some(addr) => TcpStream::connect(addr).await.map_err(|e| e.to_string()),
        None => Err(
            "nothing to forward to (simulated endpoints answer the pod proxy only; \
                     port-forward reaches real nodes)"
                .to_string(),
        ),
    };
    let tcp = match tcp {
        Ok(tcp) => tcp,
        Err(e) => {
            let message = format!(
                "error forwarding port {port} to pod {pod}: failed to connect to localhost:{port}: {e}"
            );
            let _ = sink.send(frame(1, message.as_bytes())).await;
            // As the API server does, the connection stays open after an error on one of its
            // streams until the client closes it: closing at once raced the error frame
            // (kube-rs could see the close first and lose the reason).
            while let Some(Ok(msg)) = stream.next().await {
                if matches!(msg, Message::Close(_)) {
                    break;
                }
            }
            return;
        }
    };
    let _ = tcp.set_nodelay(true);
    let (mut from_node, mut to_node) = tcp.into_split();
    let up = async {
        while let Some(Ok(msg)) = stream.next().await {
            let data = match msg {
                Message::Binary(b) if b.first() == Some(&0) => b,
                Message::Close(_) => break,
                _ => continue,
            };
            if to_node.write_all(&data[1..]).await.is_err() {
                break;
            }
        }
        let _ = to_node.shutdown().await;
    };
    let down = async {
        let mut buf = vec![0u8; 16 * 1024];
        while let Ok(n) = from_node.read(&mut buf).await {
            if n == 0 || sink.send(frame(0, &buf[..n])).await.is_err() {
                break;
            }
        }
        let _ = sink.send(Message::Close(None)).await;
    };
    tokio::select! {
        () = up => {}
        () = down => {}
    }
}
