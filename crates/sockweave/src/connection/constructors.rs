//! Making a connection: for our own opening handshake (client or server),
//! for one done elsewhere (an HTTP server's upgrade, an extended CONNECT),
//! or already OPEN. Each starts in the phase its situation calls for; the
//! transitions from there are in `mod.rs`.

use super::{Connection, Events, Outbound, Phase, Reader, Timers, negotiate};
use crate::config::{Config, ConfigError};
use crate::error::SendError;
use crate::handshake::{
    Accept, ClientHandshake, ClientRequest, ConnectRequest, HandshakeError, Header, Request,
    ResponseHead, ServerHandshake, ServerPolicy,
};
use crate::time::Instant;
use crate::{Entropy, Role};
use alloc::boxed::Box;
use alloc::sync::Arc;

impl Connection {
    /// A client connection in CONNECTING: the request is already queued in
    /// [`Connection::transmit`]. `entropy` supplies the handshake key and
    /// every mask key. A request whose fields cannot be written into an
    /// HTTP head ([`ClientRequest::check`]) is refused with
    /// [`HandshakeError::InvalidField`].
    pub fn client(
        request: &ClientRequest,
        config: impl Into<Arc<Config>>,
        mut entropy: impl Entropy + 'static,
        now: Instant,
    ) -> Result<Self, HandshakeError> {
        let config = config.into();
        config.validate()?;
        let request = negotiate::with_offer(request, &config);
        let (handshake, bytes) = ClientHandshake::new(&request, &mut entropy, &config)?;
        let mut conn = Self::with_phase(
            Role::Client,
            config,
            Phase::Client(Box::new(handshake)),
            Some(Box::new(entropy)),
            now,
        )?;
        conn.out.push_raw(&bytes);
        conn.timers.start_phase(now, conn.config.handshake_timeout);
        Ok(conn)
    }

    /// A server connection in CONNECTING, answering the request it will
    /// receive according to `policy`. Refuses a `config` that
    /// [`Config::validate`] refuses, as every constructor does.
    ///
    /// Every constructor takes a [`Config`] or an `Arc<Config>`: a server
    /// that passes clones of one `Arc` keeps one copy of its settings for
    /// all its connections instead of one per connection.
    pub fn server(
        policy: ServerPolicy,
        config: impl Into<Arc<Config>>,
        now: Instant,
    ) -> Result<Self, ConfigError> {
        let config = config.into();
        let handshake = ServerHandshake::new(&config);
        let mut conn = Self::with_phase(
            Role::Server,
            config,
            Phase::Server(Box::new((handshake, policy))),
            None,
            now,
        )?;
        conn.timers.start_phase(now, conn.config.handshake_timeout);
        Ok(conn)
    }

    /// A client connection that is already OPEN, for an opening handshake
    /// done elsewhere (e.g. with [`ClientHandshake`] directly).
    pub fn established_client(
        config: impl Into<Arc<Config>>,
        entropy: impl Entropy + 'static,
        now: Instant,
    ) -> Result<Self, ConfigError> {
        Self::with_phase(
            Role::Client,
            config.into(),
            Phase::Open,
            Some(Box::new(entropy)),
            now,
        )
    }

    /// A server connection that is already OPEN, for an opening handshake
    /// done elsewhere (e.g. an HTTP server's upgrade).
    pub fn established_server(
        config: impl Into<Arc<Config>>,
        now: Instant,
    ) -> Result<Self, ConfigError> {
        Self::with_phase(Role::Server, config.into(), Phase::Open, None, now)
    }

    /// The server side of an opening handshake whose request an HTTP server
    /// parsed (hyper, h2, an HTTP/3 stack): `request` passed
    /// [`Request::from_head`] and `accept` is the decision
    /// ([`ServerPolicy::decide`], or the application's). Negotiates
    /// permessage-deflate as [`Connection::server`] would and returns the
    /// response head to send, shaped for the request's HTTP version, with
    /// a connection that is OPEN (its [`Event::Open`](crate::Event::Open) queued) and records
    /// the subprotocol and extensions. Frames follow on the upgraded
    /// transport (the HTTP/2 or HTTP/3 stream).
    pub fn upgraded(
        request: &Request,
        accept: Accept,
        config: impl Into<Arc<Config>>,
        now: Instant,
    ) -> Result<(Self, ResponseHead), SendError> {
        let mut conn = Self::with_phase(Role::Server, config.into(), Phase::Open, None, now)
            .map_err(SendError::InvalidConfig)?;
        let head = conn.answer(request, accept)?;
        Ok((conn, head))
    }

    /// The client side of an extended CONNECT (RFC 8441 over HTTP/2,
    /// RFC 9220 over HTTP/3): the request for the HTTP client to send, with
    /// the permessage-deflate offer `config` asks for, and the handshake
    /// that checks the answer in [`Connection::client_upgraded`]. Send it
    /// only once the server's SETTINGS enabled the extended CONNECT.
    pub fn extended_connect(
        request: &ClientRequest,
        config: &Config,
    ) -> Result<(ClientHandshake, ConnectRequest), HandshakeError> {
        config.validate()?;
        let request = negotiate::with_offer(request, config);
        ClientHandshake::extended_connect(&request, config)
    }

    /// The answer to an extended CONNECT, checked as our own handshake
    /// checks a `101` (a `2xx`, a subprotocol we offered, a valid
    /// permessage-deflate answer): an OPEN connection (its [`Event::Open`](crate::Event::Open)
    /// queued) for the stream, or why not.
    pub fn client_upgraded(
        handshake: &ClientHandshake,
        status: u16,
        headers: alloc::vec::Vec<Header>,
        config: impl Into<Arc<Config>>,
        entropy: impl Entropy + 'static,
        now: Instant,
    ) -> Result<Self, HandshakeError> {
        let response = handshake.check_response(status, headers)?;
        let mut conn = Self::with_phase(
            Role::Client,
            config.into(),
            Phase::Open,
            Some(Box::new(entropy)),
            now,
        )?;
        conn.start_extension(response.extensions.as_deref())?;
        conn.open(response.protocol, response.extensions);
        Ok(conn)
    }

    /// For an opening handshake done elsewhere: runs the extensions its
    /// `Sec-WebSocket-Extensions` response agreed (as the server sent it,
    /// or the client received it). Call it right after
    /// [`Connection::established_server`] or
    /// [`Connection::established_client`], before any frame. Extensions
    /// sockweave does not run (or all of them, without the `deflate`
    /// feature) are left to the caller; their RSV bits then still fail
    /// the connection. A client fails on an invalid permessage-deflate
    /// response, as it would in its own handshake.
    pub fn use_extensions(&mut self, response: &str) -> Result<(), HandshakeError> {
        let extension = match self.role {
            Role::Client => negotiate::check(Some(response), &self.config)?,
            Role::Server => negotiate::written(response, &self.config),
        };
        if let Some(extension) = extension {
            self.set_extension(extension);
        }
        self.negotiated.get_or_insert_default().extensions = Some(response.into());
        Ok(())
    }

    fn with_phase(
        role: Role,
        config: Arc<Config>,
        phase: Phase,
        entropy: Option<Box<dyn Entropy>>,
        now: Instant,
    ) -> Result<Self, ConfigError> {
        // The one place every constructor passes: no connection runs on a
        // configuration that cannot work.
        config.validate()?;
        Ok(Self {
            role,
            reader: Reader::new(role, &config),
            config,
            phase,
            out: Outbound::default(),
            entropy: entropy.map(Box::new),
            events: Events::default(),
            negotiated: None,
            stalled: false,
            error: None,
            extension: None,
            sending: None,
            pongs: None,
            timers: Timers::new(now),
        })
    }
}
