//! WebSockets in [axum] 0.8 on the sockweave engine: a
//! [`WebSocketUpgrade`] extractor with the shape axum users know, for
//! HTTP/1.1 upgrades and HTTP/2 extended `CONNECT` (RFC 8441) alike, with
//! permessage-deflate, an Origin allow-list and bounded memory.
//!
//! ```no_run
//! use axum::{Router, response::Response};
//! use sockweave_axum::{WebSocketUpgrade, ws};
//!
//! async fn handler(upgrade: WebSocketUpgrade) -> Response {
//!     upgrade.on_upgrade(|mut socket| async move {
//!         while let Ok(Some(message)) = socket.recv().await {
//!             if socket.send(message).await.is_err() {
//!                 return;
//!             }
//!         }
//!     })
//! }
//!
//! # async fn run() {
//! let app = Router::new().route("/ws", ws(handler));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
//! axum::serve(listener, app).await.unwrap();
//! # }
//! ```
//!
//! ## Route with [`ws`], not `get`
//!
//! Over HTTP/2 a WebSocket request is a `CONNECT`, not a `GET`. A route
//! registered with `axum::routing::get` answers it 405, and browsers that
//! reach the server over HTTP/2 (Firefox, Chromium when the page's
//! connection is h2) then fall back or fail. [`ws`] registers the handler
//! for both methods; the extractor checks the rest (RFC 6455 §4.2.1 for
//! HTTP/1.1, RFC 8441 §4–5 for HTTP/2) with sockweave's own rules.
//!
//! ## What the socket is
//!
//! [`WebSocket`] is the tokio adapter's socket over hyper's upgraded
//! connection: [`Message`]s are sockweave's own. `send` writes out;
//! `feed` queues without writing, so a burst leaves in one write at the
//! next `flush`, `send` or `recv`; `buffered_amount()` says how much is
//! queued. At `Config::max_queued` the queue does not grow: `feed` waits
//! for the socket, and `try_feed` hands the message back
//! (`SendError::Full`) for the caller to decide.
//!
//! [axum]: https://docs.rs/axum

#![cfg_attr(docsrs, feature(doc_cfg))]

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::handler::Handler;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use http::request::Parts;
use sockweave::handshake::{Accept, Reject, Request};
use sockweave_hyper::Upgrade;
use std::future::Future;
use std::sync::{Arc, OnceLock};

pub use sockweave;
pub use sockweave::{CloseCode, Config, Message, ServerPolicy};
pub use sockweave_hyper::{Error, WebSocket};
pub use sockweave_tokio::{Laggard, Member, Room};

/// Registers `handler` for WebSocket requests over every HTTP version: a
/// `GET` (HTTP/1.1 upgrade) or a `CONNECT` (HTTP/2 and HTTP/3 extended
/// CONNECT). Use it where `get` would drop HTTP/2 WebSockets with a 405.
pub fn ws<H, T, S>(handler: H) -> MethodRouter<S>
where
    H: Handler<T, S>,
    T: 'static,
    S: Clone + Send + Sync + 'static,
{
    on(MethodFilter::GET.or(MethodFilter::CONNECT), handler)
}

/// Extracts a WebSocket request and answers it. A request that is not a
/// valid WebSocket handshake is refused with the status the RFC asks for
/// (400, 405, 426…) before the handler runs.
pub struct WebSocketUpgrade {
    upgrade: Upgrade,
    policy: ServerPolicy,
    /// The default settings are one `Arc` for every connection; a setter
    /// makes this connection its own copy.
    config: Arc<Config>,
    on_failed: Box<dyn FnOnce(Error) + Send>,
}

/// `Config::default()`, shared by every connection that keeps it.
fn default_config() -> Arc<Config> {
    static DEFAULT: OnceLock<Arc<Config>> = OnceLock::new();
    DEFAULT.get_or_init(Arc::default).clone()
}

impl std::fmt::Debug for WebSocketUpgrade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketUpgrade")
            .field("request", self.upgrade.request())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for WebSocketUpgrade {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        match Upgrade::from_parts(parts) {
            Ok(upgrade) => Ok(Self {
                upgrade,
                policy: ServerPolicy::default(),
                config: default_config(),
                on_failed: Box::new(|_| {}),
            }),
            Err(refusal) => Err(refusal.map(Body::new)),
        }
    }
}

impl WebSocketUpgrade {
    /// The request: path, host, offered subprotocols and extensions,
    /// `Origin`, every header (for authentication before answering).
    pub fn request(&self) -> &Request {
        self.upgrade.request()
    }

    /// Subprotocols we speak, in our order of preference: the first the
    /// client also offered is selected.
    pub fn protocols<I>(mut self, protocols: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.policy.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Only these `Origin` values are accepted (403 otherwise); requests
    /// without an `Origin` (non-browser clients) are accepted.
    pub fn allowed_origins<I>(mut self, origins: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.policy.allowed_origins = Some(origins.into_iter().map(Into::into).collect());
        self
    }

    /// Accepts pages served by the request's own host and port (beside
    /// any `allowed_origins`).
    pub fn same_host_origin(mut self) -> Self {
        self.policy.same_host_origin = true;
        self
    }

    /// Refuses requests without an `Origin` (403): browsers only.
    pub fn require_origin(mut self) -> Self {
        self.policy.require_origin = true;
        self
    }

    /// The whole policy at once (subprotocols, Origin allow-list, extra
    /// response headers).
    pub fn policy(mut self, policy: ServerPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Every limit and timer of the connection, and compression: e.g.
    /// `Config { deflate: Some(DeflateConfig::default()), ..Config::default() }`.
    /// An `Arc<Config>` that many connections share costs each of them
    /// 8 bytes instead of a copy.
    pub fn config(mut self, config: impl Into<Arc<Config>>) -> Self {
        self.config = config.into();
        self
    }

    /// The largest message accepted, in bytes (inflated bytes with
    /// compression); larger ones close the connection with 1009.
    pub fn max_message_size(mut self, max: u64) -> Self {
        Arc::make_mut(&mut self.config).max_message_len = max;
        self
    }

    /// The largest frame accepted, in bytes (declared length).
    pub fn max_frame_size(mut self, max: u64) -> Self {
        Arc::make_mut(&mut self.config).max_frame_len = max;
        self
    }

    /// Accepts permessage-deflate offers within `deflate` (RFC 7692).
    #[cfg(feature = "deflate")]
    pub fn deflate(mut self, deflate: sockweave::deflate::DeflateConfig) -> Self {
        Arc::make_mut(&mut self.config).deflate = Some(deflate);
        self
    }

    /// Called if hyper fails to hand over the connection after the
    /// response went out (the client went away, say).
    pub fn on_failed_upgrade(mut self, callback: impl FnOnce(Error) + Send + 'static) -> Self {
        self.on_failed = Box::new(callback);
        self
    }

    /// Answers the request with the policy's decision and, once accepted
    /// and upgraded, runs `callback` with the socket on a new task. The
    /// response (`101`, `200` over HTTP/2, or a refusal such as 403 for an
    /// Origin not allowed) must be returned from the handler.
    #[must_use = "the response must be returned for the upgrade to happen"]
    pub fn on_upgrade<C, Fut>(self, callback: C) -> Response
    where
        C: FnOnce(WebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (response, upgrading) = self.upgrade.accept_with(&self.policy, self.config);
        if let Some(upgrading) = upgrading {
            spawn(upgrading, self.on_failed, callback);
        }
        response.map(Body::new)
    }

    /// Accepts with the application's own decision instead of the
    /// policy's (a subprotocol it picked, extra headers such as
    /// `Set-Cookie`). An answer that cannot be written (a subprotocol not
    /// offered, a header value with a line break) is answered 500.
    #[must_use = "the response must be returned for the upgrade to happen"]
    pub fn accept<C, Fut>(self, accept: Accept, callback: C) -> Response
    where
        C: FnOnce(WebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        match self.upgrade.accept(accept, self.config) {
            Ok((response, upgrading)) => {
                spawn(upgrading, self.on_failed, callback);
                response.map(Body::new)
            }
            Err(e) => (
                http::StatusCode::INTERNAL_SERVER_ERROR,
                format!("500 Internal Server Error: {e}\n"),
            )
                .into_response(),
        }
    }

    /// Refuses with the application's response (401 with
    /// `WWW-Authenticate`, 403…).
    pub fn reject(self, reject: &Reject) -> Response {
        self.upgrade.reject(reject).map(Body::new)
    }
}

fn spawn<C, Fut>(
    upgrading: sockweave_hyper::Upgrading,
    on_failed: Box<dyn FnOnce(Error) + Send>,
    callback: C,
) where
    C: FnOnce(WebSocket) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        match upgrading.await {
            Ok(socket) => callback(socket).await,
            Err(e) => on_failed(e),
        }
    });
}
