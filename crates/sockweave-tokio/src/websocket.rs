//! [`WebSocket`]: one connection over an async stream.

use crate::Error;
use crate::tls::{MaybeTls, TlsConnector};
use futures_core::Stream;
use futures_sink::Sink;
use sockweave::handshake::{Accept, ClientRequest, Reject, Request};
use sockweave::{
    BytesMut, CloseCode, CloseEvent, Config, Connection, Event, Message, PreparedMessage,
    ReadyState, SendError, ServerPolicy,
};
use sockweave_net::Proxy;
use sockweave_net::is_disconnect;
use std::future::poll_fn;
use std::io::{self, ErrorKind};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::Sleep;

/// Once this much of a frame waits, reads go straight into its buffer,
/// which is grown by at least this much when full.
const READ_CHUNK: usize = 64 << 10;

/// A WebSocket over an async stream `S`.
pub struct WebSocket<S> {
    stream: S,
    /// Boxed: the handshake futures hold the socket in several states, and
    /// each copy would otherwise carry the whole connection (see
    /// docs/benchmarks.md, idle memory).
    conn: Box<Connection>,
    input: BytesMut,
    start: tokio::time::Instant,
    /// Armed for the core's next deadline; boxed so the socket stays `Unpin`.
    timer: Option<Pin<Box<Sleep>>>,
    /// Boxed, as `error` and `unsent`: rare, and every idle connection's
    /// task would carry them inline.
    closed: Option<Box<CloseEvent>>,
    error: Option<Box<sockweave::Error>>,
    shut_down: bool,
    /// A message the `Sink` accepted while the core's queue was full.
    unsent: Option<Box<Message>>,
}

/// Connects to a `ws://` or `wss://` URL over TCP with the default
/// configuration (and, for `wss://`, the default TLS roots; feature `rustls`).
pub async fn connect(url: &str) -> Result<WebSocket<MaybeTls<TcpStream>>, Error> {
    let request = ClientRequest::new(url)?;
    connect_with(&request, Config::default(), &TlsConnector::default()).await
}

/// Connects for `request` (subprotocols, headers) with `config`, securing
/// `wss://` with `tls`. Each step waits at most `config.handshake_timeout`
/// (10 s by default): the TCP connect (per address), the TLS handshake,
/// and the WebSocket handshake; a connect that times out is an
/// `Error::Io` of kind `TimedOut`. Redirects are followed as far as
/// [`ClientRequest::follow_redirects`] allows (none by default).
pub async fn connect_with(
    request: &ClientRequest,
    config: Config,
    tls: &TlsConnector,
) -> Result<WebSocket<MaybeTls<TcpStream>>, Error> {
    following(request, config, tls, None).await
}

/// [`connect_with`] through `proxy`: an HTTP proxy's `CONNECT` tunnel or
/// a SOCKS5 proxy (see [`Proxy`]; [`Proxy::from_env`] reads
/// `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY` for callers that want
/// them). The TCP connection goes to the proxy, which opens a tunnel to
/// the server; TLS (for `wss://`, checked against the server's name) and
/// the WebSocket handshake run inside it, end to end. Each step waits at
/// most `config.handshake_timeout`, the proxy's answer included; a proxy
/// that refuses is `Error::Proxy`. Redirects as for [`connect_with`].
pub async fn connect_via(
    request: &ClientRequest,
    config: Config,
    tls: &TlsConnector,
    proxy: &Proxy,
) -> Result<WebSocket<MaybeTls<TcpStream>>, Error> {
    following(request, config, tls, Some(proxy)).await
}

/// Connects for `request`, then for each redirect it may follow.
async fn following(
    request: &ClientRequest,
    config: Config,
    tls: &TlsConnector,
    proxy: Option<&Proxy>,
) -> Result<WebSocket<MaybeTls<TcpStream>>, Error> {
    let mut request = request.clone();
    let mut followed = 0;
    loop {
        let error = match connect_once(&request, config.clone(), tls, proxy).await {
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
async fn connect_once(
    request: &ClientRequest,
    config: Config,
    tls: &TlsConnector,
    proxy: Option<&Proxy>,
) -> Result<WebSocket<MaybeTls<TcpStream>>, Error> {
    config.validate()?;
    let (host, port) = (request.host.as_str(), request.port);
    let timeout = config.handshake_timeout;
    let stream = connect_stream(host, port, request.secure, tls, proxy, timeout).await?;
    client(stream, request, config).await
}

/// The byte stream to `host:port`: TCP (through `proxy`'s tunnel when
/// given), then TLS when `secure`; each step within `timeout`.
pub(crate) async fn connect_stream(
    host: &str,
    port: u16,
    secure: bool,
    tls: &TlsConnector,
    proxy: Option<&Proxy>,
    timeout: std::time::Duration,
) -> Result<MaybeTls<TcpStream>, Error> {
    let timed_out = |what| io::Error::new(ErrorKind::TimedOut, what);
    let (tcp_host, tcp_port) = match proxy {
        Some(proxy) => (proxy.host.as_str(), proxy.port),
        None => (host, port),
    };
    let mut stream = tokio::time::timeout(timeout, TcpStream::connect((tcp_host, tcp_port)))
        .await
        .map_err(|_| timed_out("TCP connect timed out"))??;
    stream.set_nodelay(true)?;
    if let Some(proxy) = proxy {
        tokio::time::timeout(timeout, tunnel(&mut stream, proxy, host, port))
            .await
            .map_err(|_| timed_out("the proxy did not answer in time"))??;
    }
    MaybeTls::connect(tls, stream, host, secure, timeout).await
}

/// Asks `proxy`, at the other end of `stream`, for a tunnel to
/// `host:port` (the handshake's rules are `sockweave_net`'s sans-IO
/// [`Proxy::tunnel`]; this only moves the bytes). Once it returns, the
/// stream carries the server's bytes. Bound it with a timeout: a proxy
/// may never answer.
pub async fn tunnel<S>(stream: &mut S, proxy: &Proxy, host: &str, port: u16) -> Result<(), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut handshake = proxy.tunnel(host, port)?;
    let mut input = Vec::new();
    loop {
        stream.write_all(&handshake.transmit()).await?;
        let mut buf = [0; 1024];
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            let eof = "the proxy closed the connection during its handshake";
            return Err(io::Error::new(ErrorKind::UnexpectedEof, eof).into());
        }
        input.extend_from_slice(&buf[..n]);
        if handshake.receive(&mut input)? {
            return Ok(());
        }
    }
}

/// Runs the client handshake for `request` over `stream`.
pub fn client<S>(
    stream: S,
    request: &ClientRequest,
    config: Config,
) -> impl Future<Output = Result<WebSocket<S>, Error>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let start = tokio::time::Instant::now();
    let conn = config.validate().map_err(Error::from).and_then(|()| {
        Connection::client(
            request,
            config,
            |buf: &mut [u8]| rand::fill(buf),
            sockweave::Instant::ZERO,
        )
        .map_err(Error::from)
    });
    handshake(stream, conn, start, |_| {
        unreachable!("clients get no requests")
    })
}

/// Accepts a WebSocket on `stream` with the default policy and configuration.
pub fn accept<S>(stream: S) -> impl Future<Output = Result<WebSocket<S>, Error>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    accept_with(stream, ServerPolicy::default(), Config::default())
}

/// Accepts a WebSocket on `stream` with `policy` (subprotocols, Origin
/// allow-list) and `config` (limits, timers).
pub fn accept_with<S>(
    stream: S,
    mut policy: ServerPolicy,
    config: impl Into<std::sync::Arc<Config>>,
) -> impl Future<Output = Result<WebSocket<S>, Error>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let start = tokio::time::Instant::now();
    policy.defer = false;
    let conn = Connection::server(policy, config, sockweave::Instant::ZERO).map_err(Error::from);
    handshake(stream, conn, start, |_| {
        unreachable!("requests are only deferred with a hook")
    })
}

/// Like [`accept_with`], and `decide` sees each valid request and accepts
/// it (choosing the subprotocol and extra headers) or rejects it with a
/// status of its choosing, e.g. 401 for a missing token.
pub fn accept_with_hook<S, F>(
    stream: S,
    mut policy: ServerPolicy,
    config: impl Into<std::sync::Arc<Config>>,
    decide: F,
) -> impl Future<Output = Result<WebSocket<S>, Error>>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnMut(&Request) -> Result<Accept, Reject>,
{
    let start = tokio::time::Instant::now();
    policy.defer = true;
    let conn = Connection::server(policy, config, sockweave::Instant::ZERO).map_err(Error::from);
    handshake(stream, conn, start, decide)
}

/// The opening handshake over `stream` for a connection made at once by
/// the caller (a refused configuration fails here). Its future lives on
/// the heap, freed once the connection is open: a task that accepts and
/// then serves is not sized for the handshake for the rest of its life
/// (hundreds of bytes less per idle connection), and the future returned
/// holds little more than that pointer.
fn handshake<S>(
    stream: S,
    conn: Result<Connection, Error>,
    start: tokio::time::Instant,
    decide: impl FnMut(&Request) -> Result<Accept, Reject>,
) -> impl Future<Output = Result<WebSocket<S>, Error>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // The error boxed too: the future holds two pointers, not an `Error`.
    let opening = conn
        .map(|conn| Box::pin(WebSocket::new(stream, conn, start).opened(decide)))
        .map_err(Box::new);
    async move {
        match opening {
            Ok(opening) => opening.await,
            Err(e) => Err(*e),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    fn new(stream: S, conn: Connection, start: tokio::time::Instant) -> Self {
        Self {
            stream,
            conn: Box::new(conn),
            input: BytesMut::new(),
            start,
            timer: None,
            closed: None,
            error: None,
            shut_down: false,
            unsent: None,
        }
    }

    #[cfg(feature = "browser")]
    /// Wraps a connection that has run on the clock started at `start`
    /// (its handshake not necessarily done): the browser-style socket
    /// hands over the connection it created before the stream came.
    pub(crate) fn resume(stream: S, conn: Connection, start: tokio::time::Instant) -> Self {
        Self::new(stream, conn, start)
    }

    #[cfg(feature = "browser")]
    /// The connection, for a host that applies its own rules to calls
    /// (the browser-style socket).
    pub(crate) fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    #[cfg(feature = "browser")]
    /// Writes what is queued and runs the timers that are due, without
    /// reading: for a host whose application has not taken the events it
    /// already has, so the connection still answers and ends on time.
    pub(crate) fn poll_paused(&mut self, cx: &mut Context<'_>) {
        loop {
            if let Poll::Ready(Err(_)) = self.poll_write_out(cx) {
                // The next read reports how it ended.
                return;
            }
            if !self.poll_timer(cx) {
                return;
            }
        }
    }

    /// Wraps a connection whose handshake was done elsewhere, with the bytes
    /// already read past it.
    pub fn from_parts(stream: S, conn: Connection, leftover: BytesMut) -> Self {
        let mut ws = Self::new(stream, conn, tokio::time::Instant::now());
        ws.input = leftover;
        ws
    }

    fn now(&self) -> sockweave::Instant {
        sockweave::Instant::from_elapsed(self.elapsed())
    }

    fn elapsed(&self) -> std::time::Duration {
        self.start.elapsed()
    }

    pub(crate) fn close_now(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        let now = self.now();
        Ok(self.conn.close(code, reason, now)?)
    }

    async fn opened(
        mut self,
        mut decide: impl FnMut(&Request) -> Result<Accept, Reject>,
    ) -> Result<Self, Error> {
        loop {
            match self.next_event().await? {
                Some(Event::Open(_)) => {
                    // The 101 goes out now, not whenever the application
                    // next polls.
                    self.flush().await?;
                    return Ok(self);
                }
                Some(Event::Request(request)) => {
                    match decide(&request) {
                        Ok(accept) => self.conn.accept(accept)?,
                        Err(reject) => self.conn.reject(reject)?,
                    }
                    let now = self.now();
                    self.conn.receive(&mut self.input, now);
                }
                Some(_) => {}
                None => return Err(self.error.take().map_or(Error::Closed, |e| Error::from(*e))),
            }
        }
    }

    /// The next whole message; `None` once the connection closed cleanly.
    /// A failure is returned once the connection has closed, after our
    /// close frame went out. Cancel-safe.
    pub async fn recv(&mut self) -> Result<Option<Message>, Error> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The next event of any kind; `None` after [`Event::Closed`]. Cancel-safe.
    pub async fn next_event(&mut self) -> Result<Option<Event>, Error> {
        poll_fn(|cx| self.poll_next_event(cx)).await
    }

    /// The next message already received and decoded, without any I/O:
    /// drain these after `recv` to answer a burst with one write (see
    /// [`WebSocket::feed`]). Other events on the way are skipped, as in `recv`.
    pub fn try_recv(&mut self) -> Option<Message> {
        while let Some(event) = self.queued_event() {
            match event {
                Event::Message(message) => return Some(message),
                Event::Closed(close) => self.closed = Some(Box::new(close)),
                Event::Error(error) => self.error = Some(Box::new(error)),
                _ => {}
            }
        }
        None
    }

    /// The next event of any kind already received and decoded, without
    /// any I/O: [`WebSocket::try_recv`] for callers that also want the
    /// pings, pongs and the close on the way.
    pub fn try_next_event(&mut self) -> Option<Event> {
        let event = self.queued_event()?;
        match &event {
            Event::Closed(close) => self.closed = Some(Box::new(close.clone())),
            Event::Error(error) => self.error = Some(Box::new(error.clone())),
            _ => {}
        }
        Some(event)
    }

    /// The next event already decoded, taking more frames from the input
    /// when the core stopped at its event budget.
    fn queued_event(&mut self) -> Option<Event> {
        // Without frames left in the input, no clock read is needed (a
        // few per message showed in profiles).
        if !self.conn.needs_receive() {
            return self.conn.poll_event();
        }
        let now = self.now();
        self.conn.poll_event_from(&mut self.input, now)
    }

    /// Queues `message` without writing it (unless the queue is full):
    /// queued frames leave together in one vectored write at the next
    /// [`WebSocket::flush`], `send` or `recv`.
    pub fn feed(
        &mut self,
        message: impl Into<Message>,
    ) -> impl Future<Output = Result<(), Error>> + '_ {
        self.feed_with(message.into(), Connection::send)
    }

    /// [`WebSocket::feed`] for a message prepared once for many
    /// connections ([`WebSocket::send_prepared`]).
    pub fn feed_prepared<'a>(
        &'a mut self,
        prepared: &'a PreparedMessage,
    ) -> impl Future<Output = Result<(), Error>> + 'a {
        self.feed_with(prepared.message().clone(), |conn, _| {
            conn.send_prepared(prepared)
        })
    }

    /// Queues through `push`; a full queue is written out first. A plain
    /// function returning the future, not an `async fn`: the message is
    /// held once, not once per layer (a task awaiting it is that much
    /// smaller for its whole life).
    fn feed_with<'a>(
        &'a mut self,
        message: Message,
        push: impl Fn(&mut Connection, Message) -> Result<(), SendError> + 'a,
    ) -> impl Future<Output = Result<(), Error>> + 'a {
        let mut message = Some(message);
        poll_fn(move |cx| {
            let Some(m) = message.take() else {
                return Poll::Ready(Ok(()));
            };
            match push(&mut self.conn, m) {
                Ok(()) => Poll::Ready(Ok(())),
                Err(SendError::Full(m)) => {
                    message = Some(m);
                    ready!(self.poll_write_out(cx))?;
                    let m = message.take().expect("kept above");
                    Poll::Ready(push(&mut self.conn, m).map_err(Error::from))
                }
                Err(e) => Poll::Ready(Err(e.into())),
            }
        })
    }

    /// Queues `message` without writing and without waiting: a full
    /// queue (`Config::max_queued`) hands it back in [`SendError::Full`]
    /// for the caller to keep, drop or retry after a
    /// [`WebSocket::flush`]. Queued bytes go out at the next `flush`,
    /// `send` or `recv`.
    pub fn try_feed(&mut self, message: impl Into<Message>) -> Result<(), SendError> {
        self.conn.send(message.into())
    }

    /// Application bytes queued and not yet written (the WHATWG
    /// `bufferedAmount`).
    pub fn buffered_amount(&self) -> usize {
        self.conn.buffered_amount()
    }

    /// Queues `message` and writes it out.
    pub fn send(
        &mut self,
        message: impl Into<Message>,
    ) -> impl Future<Output = Result<(), Error>> + '_ {
        let mut message = Some(message.into());
        poll_fn(move |cx| self.poll_send(cx, &mut message, |conn, m| conn.send(m)))
    }

    /// Sends a message prepared once for many connections (a broadcast):
    /// the same frame bytes, by reference
    /// ([`Connection::send_prepared`](sockweave::Connection::send_prepared)).
    /// Waits as [`WebSocket::send`] does while the queue is full.
    pub fn send_prepared<'a>(
        &'a mut self,
        prepared: &'a PreparedMessage,
    ) -> impl Future<Output = Result<(), Error>> + 'a {
        let mut message = Some(prepared.message().clone());
        poll_fn(move |cx| self.poll_send(cx, &mut message, |conn, _| conn.send_prepared(prepared)))
    }

    /// Sends one piece of a message sent in pieces; `last` ends the message.
    pub fn send_fragment(
        &mut self,
        piece: impl Into<Message>,
        last: bool,
    ) -> impl Future<Output = Result<(), Error>> + '_ {
        let mut piece = Some(piece.into());
        poll_fn(move |cx| self.poll_send(cx, &mut piece, |conn, m| conn.send_fragment(m, last)))
    }

    /// Sends a ping with up to 125 bytes of payload.
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.conn.ping(payload)?;
        self.flush().await
    }

    /// Starts the closing handshake; keep calling `recv` until `None` to
    /// finish it.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.close_now(code, reason)?;
        self.flush().await
    }

    /// Writes out everything queued.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.poll_write_out(cx)).await
    }

    /// How the connection ended, once it has.
    pub fn close_event(&self) -> Option<&CloseEvent> {
        self.closed.as_deref()
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
        (self.stream, *self.conn, self.input)
    }

    pub(crate) fn poll_recv(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Message>, Error>> {
        loop {
            match ready!(self.poll_next_event(cx))? {
                Some(Event::Message(message)) => return Poll::Ready(Ok(Some(message))),
                Some(_) => {}
                None => {
                    return Poll::Ready(self.error.take().map_or(Ok(None), |e| Err((*e).into())));
                }
            }
        }
    }

    pub(crate) fn poll_next_event(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Event>, Error>> {
        loop {
            if let Some(event) = self.queued_event() {
                match &event {
                    Event::Closed(close) => self.closed = Some(Box::new(close.clone())),
                    Event::Error(error) => self.error = Some(Box::new(error.clone())),
                    _ => {}
                }
                return Poll::Ready(Ok(Some(event)));
            }
            if self.conn.ready_state() == ReadyState::Closed {
                // Best effort, and only once: the peer may be gone already.
                if !self.shut_down {
                    if self.poll_write_out(cx).is_pending() {
                        return Poll::Pending;
                    }
                    self.shut_down = true;
                    let _ = Pin::new(&mut self.stream).poll_shutdown(cx);
                }
                return Poll::Ready(Ok(None));
            }
            // Obligated writes go out on every turn, without waiting for them.
            if self.conn.wants_write() {
                match self.poll_write_out(cx) {
                    // Writing may have ended the connection (a timer ran
                    // while the socket took nothing): look again, its
                    // events come first.
                    Poll::Ready(Ok(()) | Err(Error::Closed)) => continue,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {}
                }
            }
            // The timer is polled (its waker registered) only when there
            // is nothing to read: polling it before every read as well
            // doubled what the timer cost per echo (callgrind).
            let read = match self.poll_read(cx) {
                Poll::Ready(read) => read,
                Poll::Pending if self.poll_timer(cx) => continue,
                Poll::Pending => return Poll::Pending,
            };
            let now = self.now();
            match read {
                Ok(0) => self.conn.receive_eof(now),
                Ok(_) => {
                    self.conn.receive(&mut self.input, now);
                    // A peer whose bytes never stop coming never lets the
                    // read above go pending: deadlines that passed (a
                    // close not answered, a message trickled in) are
                    // acted on here, by the clock just read.
                    if self.conn.poll_timeout().is_some_and(|at| at <= now) {
                        self.conn.handle_timeout(now);
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if is_disconnect(&e) => self.conn.receive_eof(now),
                Err(e) => {
                    self.conn.receive_eof(now);
                    return Poll::Ready(Err(e.into()));
                }
            }
            if self.input.is_empty() {
                // Idle connections hold no read buffer (see `poll_read`).
                self.input = BytesMut::new();
            }
        }
    }

    /// Reads what is available. Unless a large frame is arriving, the
    /// read goes to the thread's receive buffer: a connection waiting for
    /// data holds no heap buffer. Bytes that arrived are copied to one
    /// made for their frame (at most twice what came), or a read that is
    /// one large frame takes the thread's buffer with it
    /// (`sockweave_net::keep_read`). Once [`READ_CHUNK`] or more wait,
    /// reads go straight into the connection's buffer.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.input.len() >= READ_CHUNK {
            sockweave_net::reserve_read(&self.conn, &mut self.input, READ_CHUNK);
            return tokio_util::io::poll_read_buf(Pin::new(&mut self.stream), cx, &mut self.input);
        }
        // Read into its spare capacity: uninitialised, since zeroing it
        // for every read of a few bytes showed in profiles.
        let mut buf = sockweave_net::take_receive_buffer();
        buf.clear();
        match tokio_util::io::poll_read_buf(Pin::new(&mut self.stream), cx, &mut buf) {
            Poll::Ready(Ok(n)) => {
                sockweave_net::keep_read(&self.conn, &mut self.input, buf, n);
                Poll::Ready(Ok(n))
            }
            other => {
                sockweave_net::give_back(buf);
                other
            }
        }
    }

    /// Runs the core's timers; returns whether one fired.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(deadline) = self.conn.poll_timeout() else {
            self.timer = None;
            return false;
        };
        let when = self.start + deadline.elapsed_since_epoch();
        match &mut self.timer {
            // A later deadline keeps the armed timer: keepalive's moves
            // with every message received, and moving a tokio timer takes
            // the timer driver's lock. The timer then fires early, the
            // core finds nothing due, and it is armed again for the
            // deadline of that moment.
            Some(timer) if timer.deadline() <= when && !timer.is_elapsed() => {}
            Some(timer) => timer.as_mut().reset(when),
            None => self.timer = Some(Box::pin(tokio::time::sleep_until(when))),
        }
        let timer = self.timer.as_mut().expect("armed above");
        if timer.as_mut().poll(cx).is_ready() {
            let now = self.now();
            self.conn.handle_timeout(now);
            return true;
        }
        false
    }

    pub(crate) fn poll_send(
        &mut self,
        cx: &mut Context<'_>,
        message: &mut Option<Message>,
        push: impl Fn(&mut Connection, Message) -> Result<(), SendError>,
    ) -> Poll<Result<(), Error>> {
        if let Some(m) = message.take() {
            match push(&mut self.conn, m) {
                Ok(()) => {}
                Err(SendError::Full(m)) => {
                    *message = Some(m);
                    ready!(self.poll_write_out(cx))?;
                    return self.poll_send(cx, message, push);
                }
                Err(e) => return Poll::Ready(Err(e.into())),
            }
        }
        self.poll_write_out(cx)
    }

    /// Writes everything the core queued; bytes count only once written.
    /// Writes out everything queued. While the socket takes nothing, the
    /// core's timers run (keepalive, close), so a peer that stops reading
    /// holds this no longer than they allow: once the connection is
    /// CLOSED, what is left is abandoned with [`Error::Closed`].
    pub(crate) fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        loop {
            let written = if self.conn.wants_write() {
                let (slices, count) = sockweave_net::queued_slices(&self.conn);
                let stream = Pin::new(&mut self.stream);
                // As sockweave_net::write_queued: one contiguous run with
                // a plain write, several pieces vectored.
                if count == 1 {
                    stream.poll_write(cx, &slices[0])
                } else {
                    stream.poll_write_vectored(cx, &slices[..count])
                }
            } else {
                match Pin::new(&mut self.stream).poll_flush(cx) {
                    Poll::Ready(result) => return Poll::Ready(result.map_err(Error::from)),
                    Poll::Pending => Poll::Pending,
                }
            };
            match written {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(io::Error::from(ErrorKind::WriteZero).into()));
                }
                Poll::Ready(Ok(n)) => self.conn.advance_transmit(n),
                Poll::Ready(Err(e)) if e.kind() == ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => {
                    if is_disconnect(&e) {
                        let now = self.now();
                        self.conn.receive_eof(now);
                    }
                    return Poll::Ready(Err(e.into()));
                }
                Poll::Pending => {
                    if self.conn.ready_state() == ReadyState::Closed {
                        return Poll::Ready(Err(Error::Closed));
                    }
                    if !self.poll_timer(cx) {
                        return Poll::Pending;
                    }
                    // A timer ran (a ping queued, or the connection ended): look again.
                }
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocket<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_recv(cx).map(Result::transpose)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    /// Moves a message the `Sink` accepted into the core once it has room.
    fn poll_unsent(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        while let Some(message) = self.unsent.take() {
            match self.conn.send(*message) {
                Ok(()) => {}
                Err(SendError::Full(message)) => {
                    self.unsent = Some(Box::new(message));
                    ready!(self.poll_write_out(cx))?;
                }
                Err(e) => return Poll::Ready(Err(e.into())),
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// Messages queue in the core (so several leave in one write) until
/// `poll_flush`; a message that does not fit waits in a one-message slot.
impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocket<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().poll_unsent(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        let this = self.get_mut();
        match this.conn.send(item) {
            Ok(()) => Ok(()),
            Err(SendError::Full(item)) => {
                this.unsent = Some(Box::new(item));
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        ready!(this.poll_unsent(cx))?;
        this.poll_write_out(cx)
    }

    /// Sends a close frame (1000) and writes it out; the closing handshake
    /// finishes as the stream side is read to its end.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        ready!(this.poll_unsent(cx))?;
        let now = this.now();
        this.conn.close(CloseCode::NORMAL, "", now)?;
        this.poll_write_out(cx)
    }
}

impl<S> std::fmt::Debug for WebSocket<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("connection", &self.conn)
            .finish_non_exhaustive()
    }
}
