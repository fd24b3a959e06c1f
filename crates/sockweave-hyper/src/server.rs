//! The server side: a request hyper parsed becomes a WebSocket.

use crate::translate::{into_response, request_head};
use crate::{Error, WebSocket};
use bytes::Bytes;
use http_body_util::Full;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use sockweave::handshake::{Accept, Reject, Request};
use sockweave::{BytesMut, Config, Connection, Instant, SendError, ServerPolicy};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// The response type this crate hands back to hyper.
pub type Response = http::Response<Full<Bytes>>;

/// Whether `parts` asks for a WebSocket: an HTTP/1.1 request with
/// `Upgrade: websocket`, or an HTTP/2 `CONNECT` with `:protocol websocket`.
/// For routing; [`Upgrade::from_parts`] says whether it is a valid one.
pub fn is_upgrade_request(parts: &http::request::Parts) -> bool {
    request_head(parts).wants_websocket()
}

/// A WebSocket request that passed the opening handshake rules and awaits
/// a decision: [`Upgrade::accept`], [`Upgrade::accept_with`] or
/// [`Upgrade::reject`]. The request is visible in between
/// ([`Upgrade::request`]), so an asynchronous authentication can run
/// before anything is answered.
#[derive(Debug)]
pub struct Upgrade {
    request: Request,
    on_upgrade: OnUpgrade,
}

impl Upgrade {
    /// Checks a request hyper parsed against the same rules as sockweave's
    /// own handshake (RFC 6455 §4.2.1 for HTTP/1.1, RFC 8441 §4–5 for
    /// HTTP/2). `Err` is the response to send instead: the status the
    /// rule asks for (400, 405, 426…).
    ///
    /// hyper must serve the connection with upgrades on
    /// (`serve_connection_with_upgrades`, or `with_upgrades()` for
    /// HTTP/1.1) and, for HTTP/2, with `enable_connect_protocol()`; a
    /// request that cannot be upgraded is answered 500.
    pub fn from_parts(parts: &mut http::request::Parts) -> Result<Self, Box<Response>> {
        let head = request_head(parts);
        let version = head.version;
        let request = Request::from_head(head)
            .map_err(|e| Box::new(into_response(&Reject::for_version(&e, version))))?;
        let Some(on_upgrade) = parts.extensions.remove::<OnUpgrade>() else {
            let mut reject = Reject::status(500);
            reject.body = b"the server cannot upgrade this connection\n".to_vec();
            return Err(Box::new(into_response(&reject)));
        };
        Ok(Self {
            request,
            on_upgrade,
        })
    }

    /// [`Upgrade::from_parts`] for a whole request; its body (a WebSocket
    /// request has none) is dropped.
    pub fn from_request<B>(request: http::Request<B>) -> Result<Self, Box<Response>> {
        let (mut parts, _body) = request.into_parts();
        Self::from_parts(&mut parts)
    }

    /// The request: path, host, offered subprotocols and extensions,
    /// `Origin`, every header.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Accepts with `accept` (subprotocol, extension answer, extra
    /// headers): returns the response to hand to hyper now, and the
    /// future that yields the WebSocket once hyper has upgraded the
    /// connection. permessage-deflate is negotiated from `config`.
    pub fn accept(
        self,
        accept: Accept,
        config: impl Into<std::sync::Arc<Config>>,
    ) -> Result<(Response, Upgrading), SendError> {
        let (conn, head) = Connection::upgraded(&self.request, accept, config, Instant::ZERO)?;
        let upgrading = Upgrading {
            on_upgrade: self.on_upgrade,
            conn: Some(conn),
        };
        Ok((into_response(&head), upgrading))
    }

    /// Decides with `policy` (Origin allow-list, subprotocol choice) and
    /// accepts or refuses: the response to hand to hyper, and the future
    /// of the WebSocket if it was accepted.
    pub fn accept_with(
        self,
        policy: &ServerPolicy,
        config: impl Into<std::sync::Arc<Config>>,
    ) -> (Response, Option<Upgrading>) {
        match policy.decide(&self.request) {
            Ok(accept) => match self.accept(accept, config) {
                Ok((response, upgrading)) => (response, Some(upgrading)),
                Err(e) => (server_error(&e), None),
            },
            Err(e) => (
                into_response(&Reject::for_version(&e, self.request.version)),
                None,
            ),
        }
    }

    /// Refuses with the application's response (401 with
    /// `WWW-Authenticate`, 403…).
    pub fn reject(self, reject: &Reject) -> Response {
        match reject.check() {
            Ok(()) => into_response(reject),
            Err(e) => server_error(&e),
        }
    }
}

fn server_error(error: &dyn std::fmt::Display) -> Response {
    let mut reject = Reject::status(500);
    reject.body = format!("500 Internal Server Error: {error}\n").into_bytes();
    into_response(&reject)
}

/// Resolves to the WebSocket once hyper has sent the response and handed
/// over the connection (for HTTP/2, the stream). Spawn it: hyper upgrades
/// only after the response has gone out.
#[must_use = "the WebSocket arrives only if this future is polled"]
#[derive(Debug)]
pub struct Upgrading {
    on_upgrade: OnUpgrade,
    conn: Option<Connection>,
}

impl Future for Upgrading {
    type Output = Result<WebSocket, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let upgraded = ready!(Pin::new(&mut self.on_upgrade).poll(cx))
            .map_err(|e| Error::Io(std::io::Error::other(e)))?;
        let conn = self.conn.take().ok_or(Error::Closed)?;
        // hyper replays any bytes it read past the request head before
        // the upgraded stream's own, so nothing is lost here.
        let stream = TokioIo::new(upgraded);
        Poll::Ready(Ok(WebSocket::from_parts(stream, conn, BytesMut::new())))
    }
}
