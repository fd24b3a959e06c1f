//! [`WebSocket`]: one connection over a blocking stream.

use crate::Error;
use crate::driver::{self, Clock, Reading};
use crate::tls::{MaybeTls, TlsConnector};
use crate::transport::Transport;
use sockweave::handshake::{Accept, ClientRequest, Reject, Request};
use sockweave::{
    BytesMut, CloseCode, CloseEvent, Config, Connection, Event, Message, PreparedMessage,
    ServerPolicy,
};
use sockweave_net::Proxy;
use std::io::{self, ErrorKind};
use std::net::TcpStream;

/// A WebSocket over a blocking stream `S`.
pub struct WebSocket<S> {
    pub(crate) stream: S,
    pub(crate) conn: Connection,
    pub(crate) reading: Reading,
    pub(crate) closed: Option<CloseEvent>,
    pub(crate) error: Option<sockweave::Error>,
}

/// Connects to a `ws://` or `wss://` URL over TCP with the default
/// configuration (and, for `wss://`, the default TLS roots; feature `rustls`).
pub fn connect(url: &str) -> Result<WebSocket<MaybeTls<TcpStream>>, Error> {
    connect_with(
        &ClientRequest::new(url)?,
        Config::default(),
        &TlsConnector::default(),
    )
}

/// Connects for `request` (subprotocols, headers) with `config`, securing
/// `wss://` with `tls`. Each step waits at most `config.handshake_timeout`
/// (10 s by default): the TCP connect (per address), the TLS handshake,
/// and the WebSocket handshake; a connect that times out is an
/// `Error::Io` of kind `TimedOut`. Redirects are followed as far as
/// [`ClientRequest::follow_redirects`] allows (none by default).
pub fn connect_with(
    request: &ClientRequest,
    config: Config,
    tls: &TlsConnector,
) -> Result<WebSocket<MaybeTls<TcpStream>>, Error> {
    following(request, config, tls, None)
}

/// Connects for `request`, then for each redirect it may follow.
fn following(
    request: &ClientRequest,
    config: Config,
    tls: &TlsConnector,
    proxy: Option<&Proxy>,
) -> Result<WebSocket<MaybeTls<TcpStream>>, Error> {
    let mut request = request.clone();
    let mut followed = 0;
    loop {
        let error = match connect_once(&request, config.clone(), tls, proxy) {
            Err(error) => error,
            done => return done,
        };
        match sockweave_net::next_request(&request, followed, &error) {
            Some(next) => request = next?,
            None => return Err(error),
        }
        followed += 1;
    }
}

/// One connection attempt, through `proxy` when given.
fn connect_once(
    request: &ClientRequest,
    config: Config,
    tls: &TlsConnector,
    proxy: Option<&Proxy>,
) -> Result<WebSocket<MaybeTls<TcpStream>>, Error> {
    config.validate()?;
    let (host, port) = (request.host.as_str(), request.port);
    let timeout = config.handshake_timeout;
    let stream = connect_stream(host, port, request.secure, tls, proxy, timeout)?;
    client(stream, request, config)
}

/// The byte stream to `host:port`: TCP (through `proxy`'s tunnel when
/// given), then TLS when `secure`; each step within `timeout`.
pub(crate) fn connect_stream(
    host: &str,
    port: u16,
    secure: bool,
    tls: &TlsConnector,
    proxy: Option<&Proxy>,
    timeout: std::time::Duration,
) -> Result<MaybeTls<TcpStream>, Error> {
    let stream = match proxy {
        Some(proxy) => {
            let mut stream = connect_tcp(&proxy.host, proxy.port, timeout)?;
            tunnel(&mut stream, proxy, host, port, timeout)?;
            stream
        }
        None => connect_tcp(host, port, timeout)?,
    };
    stream.set_nodelay(true)?;
    MaybeTls::connect(tls, stream, host, secure, timeout)
}

/// [`connect_with`] through `proxy`: an HTTP proxy's `CONNECT` tunnel or
/// a SOCKS5 proxy (see [`Proxy`]; [`Proxy::from_env`] reads
/// `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY` for callers that want
/// them). The TCP connection goes to the proxy, which opens a tunnel to
/// the server; TLS (for `wss://`, checked against the server's name) and
/// the WebSocket handshake run inside it, end to end. Each step waits at
/// most `config.handshake_timeout`, the proxy's answer included; a proxy
/// that refuses is `Error::Proxy`. Redirects as for [`connect_with`].
pub fn connect_via(
    request: &ClientRequest,
    config: Config,
    tls: &TlsConnector,
    proxy: &Proxy,
) -> Result<WebSocket<MaybeTls<TcpStream>>, Error> {
    following(request, config, tls, Some(proxy))
}

/// Runs the proxy's handshake on `stream` (sans-IO in `sockweave_net`;
/// this only moves the bytes), within `timeout` in all.
fn tunnel(
    stream: &mut TcpStream,
    proxy: &Proxy,
    host: &str,
    port: u16,
    timeout: std::time::Duration,
) -> Result<(), Error> {
    use std::io::{Read, Write};
    let mut handshake = proxy.tunnel(host, port)?;
    let deadline = std::time::Instant::now() + timeout;
    let mut input = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(
                io::Error::new(ErrorKind::TimedOut, "the proxy did not answer in time").into(),
            );
        }
        stream.set_write_timeout(Some(left))?;
        stream.write_all(&handshake.transmit())?;
        stream.set_read_timeout(Some(left))?;
        let mut buf = [0; 1024];
        let n = match stream.read(&mut buf) {
            Ok(0) => {
                let eof = "the proxy closed the connection during its handshake";
                return Err(io::Error::new(ErrorKind::UnexpectedEof, eof).into());
            }
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                return Err(io::Error::new(
                    ErrorKind::TimedOut,
                    "the proxy did not answer in time",
                )
                .into());
            }
            Err(e) => return Err(e.into()),
        };
        input.extend_from_slice(&buf[..n]);
        if handshake.receive(&mut input)? {
            stream.set_read_timeout(None)?;
            stream.set_write_timeout(None)?;
            return Ok(());
        }
    }
}

/// Connects to the first address of `host` that answers within `timeout`
/// each (name resolution itself is the system's, without a bound).
pub(crate) fn connect_tcp(
    host: &str,
    port: u16,
    timeout: std::time::Duration,
) -> io::Result<TcpStream> {
    let mut last = io::Error::new(ErrorKind::NotFound, "the host has no address");
    for addr in std::net::ToSocketAddrs::to_socket_addrs(&(host, port))? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Runs the client handshake for `request` over `stream` and returns the
/// OPEN connection. A non-101 answer is `Error::Handshake(Status { .. })`.
pub fn client<S: Transport>(
    stream: S,
    request: &ClientRequest,
    config: Config,
) -> Result<WebSocket<S>, Error> {
    config.validate()?;
    let clock = Clock::new();
    let conn = Connection::client(
        request,
        config,
        |buf: &mut [u8]| rand::fill(buf),
        clock.now(),
    )?;
    WebSocket::new(stream, conn, clock).opened(|_| unreachable!("clients get no requests"))
}

/// Accepts a WebSocket on `stream` with the default policy and configuration.
pub fn accept<S: Transport>(stream: S) -> Result<WebSocket<S>, Error> {
    accept_with(stream, ServerPolicy::default(), Config::default())
}

/// Accepts a WebSocket on `stream` with `policy` (subprotocols, Origin
/// allow-list) and `config` (limits, timers).
pub fn accept_with<S: Transport>(
    stream: S,
    mut policy: ServerPolicy,
    config: impl Into<std::sync::Arc<Config>>,
) -> Result<WebSocket<S>, Error> {
    let clock = Clock::new();
    policy.defer = false;
    let conn = Connection::server(policy, config, clock.now())?;
    WebSocket::new(stream, conn, clock)
        .opened(|_| unreachable!("requests are only deferred with a hook"))
}

/// Like [`accept_with`], and `decide` sees each valid request and accepts
/// it (choosing the subprotocol and extra headers) or rejects it with a
/// status of its choosing, e.g. 401 for a missing token.
pub fn accept_with_hook<S, F>(
    stream: S,
    mut policy: ServerPolicy,
    config: impl Into<std::sync::Arc<Config>>,
    decide: F,
) -> Result<WebSocket<S>, Error>
where
    S: Transport,
    F: FnMut(&Request) -> Result<Accept, Reject>,
{
    let clock = Clock::new();
    policy.defer = true;
    let conn = Connection::server(policy, config, clock.now())?;
    WebSocket::new(stream, conn, clock).opened(decide)
}

impl<S: Transport> WebSocket<S> {
    fn new(stream: S, conn: Connection, clock: Clock) -> Self {
        Self {
            stream,
            conn,
            reading: Reading::new(clock, BytesMut::new()),
            closed: None,
            error: None,
        }
    }

    /// Wraps a connection whose opening handshake was done elsewhere, with
    /// the bytes already read past the handshake.
    pub fn from_parts(stream: S, conn: Connection, leftover: BytesMut) -> Self {
        let mut ws = Self::new(stream, conn, Clock::new());
        ws.reading.input = leftover;
        ws
    }

    /// Drives the handshake until OPEN.
    fn opened(
        mut self,
        mut decide: impl FnMut(&Request) -> Result<Accept, Reject>,
    ) -> Result<Self, Error> {
        loop {
            match self.next_event()? {
                Some(Event::Open(_)) => {
                    // The 101 goes out now, not at the next call.
                    self.flush()?;
                    return Ok(self);
                }
                Some(Event::Request(request)) => {
                    let now = self.reading.clock.now();
                    match decide(&request) {
                        Ok(accept) => self.conn.accept(accept)?,
                        Err(reject) => self.conn.reject(reject)?,
                    }
                    self.conn.receive(&mut self.reading.input, now);
                }
                Some(_) => {}
                None => return Err(self.error.take().map_or(Error::Closed, Error::from)),
            }
        }
    }

    /// The next whole message; `None` once the connection is closed
    /// cleanly. Pings are answered and other events skipped on the way.
    /// A failure is returned once the connection has closed, after our
    /// close frame went out.
    pub fn recv(&mut self) -> Result<Option<Message>, Error> {
        loop {
            match self.next_event()? {
                Some(Event::Message(message)) => return Ok(Some(message)),
                Some(_) => {}
                None => return self.error.take().map_or(Ok(None), |e| Err(e.into())),
            }
        }
    }

    /// The next event of any kind; `None` after [`Event::Closed`].
    pub fn next_event(&mut self) -> Result<Option<Event>, Error> {
        let event = self.reading.next_event(&mut self.conn, &mut self.stream)?;
        match &event {
            Some(Event::Closed(close)) => self.closed = Some(close.clone()),
            Some(Event::Error(error)) => self.error = Some(error.clone()),
            _ => {}
        }
        Ok(event)
    }

    /// Queues `message` and writes it out.
    pub fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        self.queue(message.into(), |conn, message| conn.send(message))
    }

    /// Sends a message prepared once for many connections (a broadcast):
    /// the same frame bytes, by reference
    /// ([`Connection::send_prepared`](sockweave::Connection::send_prepared)).
    /// Waits as [`WebSocket::send`] does while the queue is full.
    pub fn send_prepared(&mut self, prepared: &PreparedMessage) -> Result<(), Error> {
        self.queue(prepared.message().clone(), |conn, _| {
            conn.send_prepared(prepared)
        })
    }

    /// Sends one piece of a message sent in pieces: the first piece fixes
    /// the kind, `last` ends the message.
    pub fn send_fragment(&mut self, piece: impl Into<Message>, last: bool) -> Result<(), Error> {
        self.queue(piece.into(), |conn, piece| conn.send_fragment(piece, last))
    }

    /// Queues through `push`; a full queue is written out and tried again.
    fn queue(
        &mut self,
        message: Message,
        mut push: impl FnMut(&mut Connection, Message) -> Result<(), sockweave::SendError>,
    ) -> Result<(), Error> {
        if let Err(sockweave::SendError::Full(message)) = push(&mut self.conn, message) {
            self.flush()?;
            push(&mut self.conn, message)?;
        }
        self.flush()
    }

    /// Sends a ping with up to 125 bytes of payload.
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.conn.ping(payload)?;
        self.flush()
    }

    /// Starts the closing handshake. Keep calling [`WebSocket::recv`] until
    /// it returns `None` to finish it.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        let now = self.reading.clock.now();
        self.conn.close(code, reason, now)?;
        self.flush()
    }

    /// Writes out everything the core has queued. If the peer is gone, the
    /// core learns it too, and the next `recv` reports how it ended.
    ///
    /// A peer that does not read blocks this no longer than the core's
    /// timers allow: each write waits at most until the next deadline
    /// (keepalive, close), which then runs; once the connection is CLOSED
    /// (by default at most 65 s: a ping after 30 s, 30 s for an answer,
    /// 5 s for the close) the queued bytes are abandoned with
    /// [`Error::Closed`], and `recv` reports how it ended.
    pub fn flush(&mut self) -> Result<(), Error> {
        driver::flush(&mut self.conn, &mut self.stream, self.reading.clock)
    }

    /// How the connection ended, once it has.
    pub fn close_event(&self) -> Option<&CloseEvent> {
        self.closed.as_ref()
    }

    /// The sans-IO connection (ready state, protocol, buffered amount…).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The stream, the connection, and bytes read but not yet processed.
    pub fn into_parts(self) -> (S, Connection, BytesMut) {
        (self.stream, self.conn, self.reading.input)
    }
}

impl<S> std::fmt::Debug for WebSocket<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("connection", &self.conn)
            .finish_non_exhaustive()
    }
}
