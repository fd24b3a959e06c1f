//! [`Connection`]: one WebSocket connection, either role, from the opening
//! handshake to CLOSED. Every state transition lives in this file.
//!
//! ```text
//!  CONNECTING ──handshake done──► OPEN ──close sent or received──► CLOSING ──► CLOSED
//!      │                           │                                  ▲
//!      └─handshake failed/timeout──┴──── failure, EOF, timeout ───────┘
//! ```
//!
//! - CONNECTING: the client waits for `101`; the server waits for the
//!   request (and, with [`ServerPolicy::defer`], for the application's
//!   [`Connection::accept`] or [`Connection::reject`]).
//! - OPEN: messages flow both ways.
//! - CLOSING: a close frame went out, came in, or both. On a failure the
//!   close frame carries the error's code and the connection is CLOSED
//!   once it is written. After a completed closing handshake the server is
//!   CLOSED once its close frame is written (it closes the transport first,
//!   RFC 6455 §7.1.1); the client waits for the server to close the
//!   transport ([`Connection::receive_eof`]) or for the close timeout.
//! - CLOSED: the transport should be closed. [`Event::Closed`] has been
//!   reported, exactly once.
//!
//! ## Events are a timeline
//!
//! `receive` decodes everything it is given, but the reactions that
//! change state (answering a ping, echoing a close frame, failing on a
//! protocol error, ending at EOF) take effect when the application reaches
//! them in [`Connection::poll_event`]. So while handling a message that
//! arrived before a close frame or a bad frame, the connection is still
//! OPEN and a reply to that message goes out before the close frame, in
//! the order a peer expects (Autobahn's strict cases check exactly this).

mod negotiate;
mod outbound;
mod reader;

use crate::close::{CloseCode, MAX_REASON_LEN};
use crate::config::Config;
use crate::error::{Error, SendError, Timeout};
use crate::event::{CloseEvent, Event, Open};
use crate::extension::Extension;
use crate::frame::{MAX_CONTROL_PAYLOAD, OpCode};
use crate::handshake::{
    Accept, ClientHandshake, ClientRequest, ConnectRequest, HandshakeError, Header, Reject,
    Request, ResponseHead, ServerHandshake, ServerPolicy,
};
use crate::message::{Kind, Message};
use crate::time::Instant;
use crate::{Entropy, Role};
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::{String, ToString};
use bytes::{Bytes, BytesMut};
use outbound::Outbound;
use reader::Reader;

/// The WHATWG `readyState` of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum ReadyState {
    /// The opening handshake is under way.
    Connecting = 0,
    /// Messages may be sent and received.
    Open = 1,
    /// The closing handshake is under way.
    Closing = 2,
    /// The connection is closed; the transport should be closed.
    Closed = 3,
}

#[derive(Debug)]
enum Phase {
    Client(ClientHandshake),
    Server(ServerHandshake, ServerPolicy),
    Deciding(Box<Request>),
    /// A refusal is being written; CLOSED once it is.
    Refusing {
        end: u64,
    },
    Open,
    Closing,
    Closed,
}

/// What [`Connection::poll_event`] hands out next: an event, or a
/// reaction that takes effect when the application reaches it.
#[derive(Debug)]
enum Queued {
    Event(Event),
    /// Report the ping after queueing its pong.
    Ping(Bytes),
    /// The peer's close frame: echo it.
    PeerClose(Option<(CloseCode, String)>, Instant),
    /// Fail the connection and report why.
    Fail(Error, Instant),
    /// The transport ended.
    Eof,
}

/// A read buffer above this size is reallocated once what it holds is
/// small: what was split off it (a large message) and the rest must not
/// pin it together.
const SHRINK_ABOVE: usize = 256 << 10;

/// Moves a small remainder out of a buffer that was large (`capacity`
/// before frames were split off it; see [`SHRINK_ABOVE`]).
fn shrink(input: &mut BytesMut, capacity: usize) {
    if capacity > SHRINK_ABOVE && input.len() < SHRINK_ABOVE / 4 {
        *input = BytesMut::from(&input[..]);
    }
}

/// Pongs that may wait unwritten at once, each answering its own ping; past
/// that, later pings collapse into one reply to the latest (§5.5.3), so a
/// ping flood cannot grow memory.
const MAX_UNWRITTEN_PONGS: usize = 16;

/// A WebSocket connection without I/O. See the [crate docs](crate) for the
/// drive loop.
pub struct Connection {
    role: Role,
    config: Config,
    phase: Phase,
    reader: Reader,
    out: Outbound,
    entropy: Option<Box<dyn Entropy>>,
    events: VecDeque<Queued>,
    negotiated: Open,
    /// Wire offset where our close frame ends, once queued.
    close_sent: Option<u64>,
    /// The peer's close frame: its code (`NO_STATUS` if empty) and reason.
    close_received: Option<(CloseCode, String)>,
    /// No more frames are read: a close frame or a violation was seen.
    reader_done: bool,
    /// `receive` stopped at `max_pending_events` with bytes left.
    stalled: bool,
    failed: bool,
    error: Option<Error>,
    /// The negotiated extension, if any.
    extension: Option<Box<dyn Extension>>,
    /// Kind of the message being sent in pieces, if any, and whether the
    /// extension transforms it.
    sending: Option<(Kind, bool)>,
    /// Wire offsets of the ends of pongs queued and not yet written.
    pongs: VecDeque<u64>,
    /// The latest ping received while `MAX_UNWRITTEN_PONGS` pongs waited.
    pong_pending: Option<Bytes>,
    handshake_deadline: Option<Instant>,
    close_deadline: Option<Instant>,
    last_received: Instant,
    ping_sent: Option<Instant>,
}

impl core::fmt::Debug for Connection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("ready_state", &self.ready_state())
            .field("phase", &self.phase)
            .field("queued", &self.out.len())
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A client connection in CONNECTING: the request is already queued in
    /// [`Connection::transmit`]. `entropy` supplies the handshake key and
    /// every mask key. A request whose fields cannot be written into an
    /// HTTP head ([`ClientRequest::check`]) is refused with
    /// [`HandshakeError::InvalidField`].
    pub fn client(
        request: &ClientRequest,
        config: Config,
        mut entropy: impl Entropy + 'static,
        now: Instant,
    ) -> Result<Self, HandshakeError> {
        let request = negotiate::with_offer(request, &config);
        let (handshake, bytes) = ClientHandshake::new(&request, &mut entropy, &config)?;
        let mut conn = Self::with_phase(
            Role::Client,
            config,
            Phase::Client(handshake),
            Some(Box::new(entropy)),
            now,
        );
        conn.out.push_raw(&bytes);
        conn.handshake_deadline = Some(now + conn.config.handshake_timeout);
        Ok(conn)
    }

    /// A server connection in CONNECTING, answering the request it will
    /// receive according to `policy`.
    pub fn server(policy: ServerPolicy, config: Config, now: Instant) -> Self {
        let handshake = ServerHandshake::new(&config);
        let mut conn = Self::with_phase(
            Role::Server,
            config,
            Phase::Server(handshake, policy),
            None,
            now,
        );
        conn.handshake_deadline = Some(now + conn.config.handshake_timeout);
        conn
    }

    /// A client connection that is already OPEN, for an opening handshake
    /// done elsewhere (e.g. with [`ClientHandshake`] directly).
    pub fn established_client(
        config: Config,
        entropy: impl Entropy + 'static,
        now: Instant,
    ) -> Self {
        Self::with_phase(
            Role::Client,
            config,
            Phase::Open,
            Some(Box::new(entropy)),
            now,
        )
    }

    /// A server connection that is already OPEN, for an opening handshake
    /// done elsewhere (e.g. an HTTP server's upgrade).
    pub fn established_server(config: Config, now: Instant) -> Self {
        Self::with_phase(Role::Server, config, Phase::Open, None, now)
    }

    /// The server side of an opening handshake whose request an HTTP server
    /// parsed (hyper, h2, an HTTP/3 stack): `request` passed
    /// [`Request::from_head`] and `accept` is the decision
    /// ([`ServerPolicy::decide`], or the application's). Negotiates
    /// permessage-deflate as [`Connection::server`] would and returns the
    /// response head to send, shaped for the request's HTTP version, with
    /// a connection that is OPEN (its [`Event::Open`] queued) and records
    /// the subprotocol and extensions. Frames follow on the upgraded
    /// transport (the HTTP/2 or HTTP/3 stream).
    pub fn upgraded(
        request: &Request,
        accept: Accept,
        config: Config,
        now: Instant,
    ) -> Result<(Self, ResponseHead), SendError> {
        let mut conn = Self::with_phase(Role::Server, config, Phase::Open, None, now);
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
        let request = negotiate::with_offer(request, config);
        ClientHandshake::extended_connect(&request, config)
    }

    /// The answer to an extended CONNECT, checked as our own handshake
    /// checks a `101` (a `2xx`, a subprotocol we offered, a valid
    /// permessage-deflate answer): an OPEN connection (its [`Event::Open`]
    /// queued) for the stream, or why not.
    pub fn client_upgraded(
        handshake: &ClientHandshake,
        status: u16,
        headers: alloc::vec::Vec<Header>,
        config: Config,
        entropy: impl Entropy + 'static,
        now: Instant,
    ) -> Result<Self, HandshakeError> {
        let response = handshake.check_response(status, headers)?;
        let mut conn = Self::with_phase(
            Role::Client,
            config,
            Phase::Open,
            Some(Box::new(entropy)),
            now,
        );
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
        self.negotiated.extensions = Some(response.into());
        Ok(())
    }

    fn with_phase(
        role: Role,
        config: Config,
        phase: Phase,
        entropy: Option<Box<dyn Entropy>>,
        now: Instant,
    ) -> Self {
        Self {
            role,
            reader: Reader::new(role, &config),
            config,
            phase,
            out: Outbound::default(),
            entropy,
            events: VecDeque::new(),
            negotiated: Open::default(),
            close_sent: None,
            close_received: None,
            reader_done: false,
            stalled: false,
            failed: false,
            error: None,
            extension: None,
            sending: None,
            pongs: VecDeque::new(),
            pong_pending: None,
            handshake_deadline: None,
            close_deadline: None,
            last_received: now,
            ping_sent: None,
        }
    }

    // ----- inputs -------------------------------------------------------

    /// Processes received bytes. Complete frames are taken out of `input`;
    /// an incomplete one is left there (partly unmasked: pass the same
    /// buffer again with more bytes appended). Outcomes are events.
    ///
    /// Once nothing more is to be read (after the peer's close frame, a
    /// violation, or in CLOSED), what arrives is discarded, so a peer that
    /// keeps sending cannot make the buffer grow.
    ///
    /// With [`Config::max_pending_events`] events waiting, no more frames
    /// are taken: drain [`Connection::poll_event`], then, while
    /// [`Connection::needs_receive`] says so, call `receive` again with the
    /// same buffer before reading more.
    pub fn receive(&mut self, input: &mut BytesMut, now: Instant) {
        self.stalled = false;
        if matches!(self.phase, Phase::Closed | Phase::Refusing { .. }) {
            input.clear();
            return;
        }
        let capacity = input.capacity();
        if !input.is_empty() {
            self.last_received = now;
            self.ping_sent = None;
        }
        loop {
            match &mut self.phase {
                Phase::Client(handshake) => match handshake.receive(input) {
                    Ok(None) => return,
                    Ok(Some(response)) => {
                        if let Err(e) = self.start_extension(response.extensions.as_deref()) {
                            self.report(Error::Handshake(e));
                            self.finish(false);
                            return;
                        }
                        self.open(response.protocol, response.extensions);
                    }
                    Err(e) => {
                        self.report(Error::Handshake(e));
                        self.finish(false);
                        return;
                    }
                },
                Phase::Server(handshake, policy) => match handshake.receive(input) {
                    Ok(None) => return,
                    Ok(Some(request)) if policy.defer => {
                        self.push(Event::Request(Box::new(request.clone())));
                        self.phase = Phase::Deciding(Box::new(request));
                        return;
                    }
                    Ok(Some(request)) => match policy.decide(&request) {
                        Ok(accept) => self.respond(&request, accept),
                        Err(e) => return self.refuse(&Reject::from(&e), e),
                    },
                    Err(e) => return self.refuse(&Reject::from(&e), e),
                },
                Phase::Deciding(_) => return,
                Phase::Refusing { .. } | Phase::Closed => {
                    input.clear();
                    return;
                }
                Phase::Open | Phase::Closing => break,
            }
        }
        while !self.reader_done {
            if self.events.len() >= self.config.max_pending_events.max(1) && !input.is_empty() {
                self.stalled = true;
                break;
            }
            match self.reader.next(input, now, self.extension.as_deref_mut()) {
                Ok(Some(queued)) => {
                    // Nothing after a close frame is read (§5.5.1).
                    self.reader_done = matches!(queued, Queued::PeerClose(..));
                    self.events.push_back(queued);
                }
                Ok(None) => break,
                Err(e) => {
                    self.reader_done = true;
                    self.events.push_back(Queued::Fail(Error::Protocol(e), now));
                }
            }
        }
        if self.reader_done {
            input.clear();
        }
        shrink(input, capacity);
    }

    /// The transport reached end of input (or failed). Ends the connection;
    /// clean only if the closing handshake had completed. Takes effect in
    /// order, after the events of bytes received before it.
    pub fn receive_eof(&mut self, _now: Instant) {
        if matches!(self.phase, Phase::Open | Phase::Closing) {
            self.reader_done = true;
            self.events.push_back(Queued::Eof);
        } else {
            self.apply_eof();
        }
    }

    fn apply_eof(&mut self) {
        match self.phase {
            Phase::Closed => {}
            Phase::Client(_) | Phase::Server(..) | Phase::Deciding(_) => {
                self.report(Error::Handshake(HandshakeError::Eof));
                self.finish(false);
            }
            Phase::Refusing { .. } => self.finish(false),
            Phase::Open => {
                self.report(Error::TransportClosed);
                self.finish(false);
            }
            Phase::Closing => {
                let clean =
                    self.close_sent.is_some() && self.close_received.is_some() && !self.failed;
                self.finish(clean);
            }
        }
    }

    /// Ends the connection at once, as if the transport had gone, for a
    /// host that gives up on it (the browser interface's full queue, a
    /// shutdown that cannot wait): what is queued is dropped unwritten, no
    /// close frame is sent, nothing more is read, and the events end with
    /// the error (unless the connection was closing already) and
    /// [`Event::Closed`] with 1006, after the events already queued.
    pub fn abort(&mut self) {
        match self.phase {
            Phase::Closed => return,
            Phase::Client(_) | Phase::Server(..) | Phase::Deciding(_) => {
                self.report(Error::Handshake(HandshakeError::Eof));
            }
            Phase::Open => self.report(Error::TransportClosed),
            Phase::Refusing { .. } | Phase::Closing => {}
        }
        self.out.discard();
        self.pongs.clear();
        self.reader_done = true;
        self.finish(false);
    }

    /// Runs the timers that are due at `now`. Harmless to call early.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due = |deadline: Option<Instant>| deadline.is_some_and(|d| d <= now);
        match self.phase {
            Phase::Client(_) | Phase::Server(..) | Phase::Deciding(_)
                if due(self.handshake_deadline) =>
            {
                self.report(Error::Timeout(Timeout::Handshake));
                self.finish(false);
            }
            Phase::Refusing { .. } | Phase::Closing if due(self.close_deadline) => {
                // A peer that stopped reading never got our close frame.
                let written = self.close_sent.is_some_and(|end| self.out.written() >= end);
                let clean = written && self.close_received.is_some() && !self.failed;
                if !clean && !self.failed && matches!(self.phase, Phase::Closing) {
                    self.report(Error::Timeout(Timeout::Close));
                }
                self.finish(clean);
            }
            Phase::Open => {
                if due(self.message_deadline()) {
                    if let Some(error) = self.fail(Error::Timeout(Timeout::Message), now) {
                        self.push(Event::Error(error));
                    }
                    return;
                }
                if let Some(keepalive) = self.config.keepalive {
                    match self.ping_sent {
                        Some(sent) if now >= sent + keepalive.timeout => {
                            if let Some(error) = self.fail(Error::Timeout(Timeout::Pong), now) {
                                self.push(Event::Error(error));
                            }
                            return;
                        }
                        None if now >= self.last_received + keepalive.interval => {
                            let mask = self.mask_key();
                            self.out
                                .push_frame(OpCode::Ping, (true, 0), Bytes::new(), mask, None);
                            self.ping_sent = Some(now);
                        }
                        _ => {}
                    }
                }
                if let Some(idle) = self.config.idle_timeout {
                    if now >= self.last_received + idle {
                        // Our own close, so it may end cleanly; the error
                        // says why it happened.
                        self.report(Error::Timeout(Timeout::Idle));
                        let _ = self.close(CloseCode::GOING_AWAY, "idle timeout", now);
                    }
                }
            }
            _ => {}
        }
    }

    // ----- application calls ----------------------------------------------

    /// Queues a whole message.
    pub fn send(&mut self, message: impl Into<Message>) -> Result<(), SendError> {
        let message = message.into();
        self.check_can_send()?;
        if self.sending.is_some() {
            return Err(SendError::FragmentOutOfOrder);
        }
        if !self.has_room(message.len()) {
            return Err(SendError::Full(message));
        }
        let opcode = opcode_of(message.kind());
        let transform = self
            .extension
            .as_ref()
            .is_some_and(|e| e.wants(message.len(), true));
        self.push_data(opcode, true, transform, message.into_bytes());
        Ok(())
    }

    /// Queues one piece of a message sent in pieces: the first piece fixes
    /// the kind, later pieces must match it, and `last` ends the message.
    /// A text piece is valid UTF-8 on its own, so the whole message is too.
    pub fn send_fragment(
        &mut self,
        piece: impl Into<Message>,
        last: bool,
    ) -> Result<(), SendError> {
        let piece = piece.into();
        self.check_can_send()?;
        let (opcode, transform) = match self.sending {
            None => {
                let transform = self
                    .extension
                    .as_ref()
                    .is_some_and(|e| e.wants(piece.len(), last));
                (opcode_of(piece.kind()), transform)
            }
            Some((kind, transform)) if kind == piece.kind() => (OpCode::Continuation, transform),
            Some(_) => return Err(SendError::FragmentOutOfOrder),
        };
        if !self.has_room(piece.len()) {
            return Err(SendError::Full(piece));
        }
        self.sending = (!last).then_some((piece.kind(), transform));
        self.push_data(opcode, last, transform, piece.into_bytes());
        Ok(())
    }

    /// Queues a ping with up to 125 bytes of payload.
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), SendError> {
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(SendError::ControlTooLong(payload.len()));
        }
        self.check_can_send()?;
        let mask = self.mask_key();
        self.out.push_frame(
            OpCode::Ping,
            (true, 0),
            Bytes::copy_from_slice(payload),
            mask,
            None,
        );
        Ok(())
    }

    /// Starts the closing handshake with `code` and a reason of at most 123
    /// bytes; [`CloseCode::NO_STATUS`] sends a close frame without a code
    /// (the reason must then be empty).
    ///
    /// While CONNECTING the connection is dropped (CLOSED, 1006); when a
    /// close frame was already sent, or the connection is CLOSED, nothing
    /// happens.
    pub fn close(&mut self, code: CloseCode, reason: &str, now: Instant) -> Result<(), SendError> {
        if code != CloseCode::NO_STATUS && !code.is_sendable() {
            return Err(SendError::InvalidCloseCode(code.0));
        }
        let limit = if code == CloseCode::NO_STATUS {
            0
        } else {
            MAX_REASON_LEN
        };
        if reason.len() > limit {
            return Err(SendError::ReasonTooLong(reason.len()));
        }
        match self.phase {
            Phase::Client(_) | Phase::Server(..) | Phase::Deciding(_) => {
                self.out = Outbound::default();
                self.finish(false);
            }
            Phase::Open | Phase::Closing if self.close_sent.is_none() => {
                self.send_close(Some((code, reason)), now);
                self.progress();
            }
            _ => {}
        }
        Ok(())
    }

    /// Accepts the request reported by [`Event::Request`]. Bytes the client
    /// sent after its request are still in your read buffer: pass it to
    /// [`Connection::receive`] again.
    pub fn accept(&mut self, accept: Accept) -> Result<(), SendError> {
        let Phase::Deciding(request) = &self.phase else {
            return Err(SendError::NoRequest);
        };
        let request = request.clone();
        let head = self.answer(&request, accept)?;
        self.out.push_raw(&head.to_http11());
        Ok(())
    }

    /// Refuses the request reported by [`Event::Request`] with an HTTP
    /// response of the application's choosing (e.g. 401 with
    /// `WWW-Authenticate`).
    pub fn reject(&mut self, reject: Reject) -> Result<(), SendError> {
        if !matches!(self.phase, Phase::Deciding(_)) {
            return Err(SendError::NoRequest);
        }
        reject.check().map_err(SendError::InvalidField)?;
        let error = HandshakeError::Refused(reject.status);
        self.refuse(&reject, error);
        Ok(())
    }

    // ----- outputs --------------------------------------------------------

    /// The next event, if any. Automatic reactions (pongs, close replies,
    /// failing on a violation) take effect as their events are reached.
    #[must_use = "an event not taken is lost: drain until None"]
    pub fn poll_event(&mut self) -> Option<Event> {
        loop {
            match self.events.pop_front()? {
                Queued::Event(event) => return Some(event),
                Queued::Ping(payload) => {
                    if matches!(self.phase, Phase::Open) {
                        self.queue_pong(payload.clone());
                    }
                    return Some(Event::Ping(payload));
                }
                Queued::PeerClose(frame, now) => self.apply_peer_close(frame, now),
                Queued::Fail(error, now) => {
                    if let Some(error) = self.fail(error, now) {
                        return Some(Event::Error(error));
                    }
                }
                Queued::Eof => self.apply_eof(),
            }
        }
    }

    /// [`Connection::poll_event`], for a host that keeps its read buffer:
    /// when the events run out while `receive` had stopped at its event
    /// budget ([`Connection::needs_receive`]), more frames are taken from
    /// `input`, so the host never has to call `receive` again itself.
    #[must_use = "an event not taken is lost: drain until None"]
    pub fn poll_event_from(&mut self, input: &mut BytesMut, now: Instant) -> Option<Event> {
        loop {
            if let Some(event) = self.poll_event() {
                return Some(event);
            }
            if !self.needs_receive() {
                return None;
            }
            self.receive(input, now);
        }
    }

    /// The bytes waiting to be written, in order, as a few contiguous
    /// slices (suitable for a vectored write). Report what was written
    /// with [`Connection::advance_transmit`].
    pub fn transmit(&self) -> impl Iterator<Item = &[u8]> {
        self.out.chunks()
    }

    /// Records that the transport took the first `n` bytes of
    /// [`Connection::transmit`].
    pub fn advance_transmit(&mut self, n: usize) {
        self.out.advance(n);
        let written = self.out.written();
        while self.pongs.front().is_some_and(|&end| end <= written) {
            self.pongs.pop_front();
        }
        if let Some(payload) = self.pong_pending.take() {
            self.queue_pong(payload);
        }
        self.progress();
    }

    /// Appends every waiting byte to `out` and returns how many there were.
    pub fn poll_transmit(&mut self, out: &mut alloc::vec::Vec<u8>) -> usize {
        let mut total = 0;
        // Writing may release a held-back pong: loop until nothing is left.
        while !self.out.is_empty() {
            let n = self.out.len();
            out.reserve(n);
            for chunk in self.out.chunks() {
                out.extend_from_slice(chunk);
            }
            self.advance_transmit(n);
            total += n;
        }
        total
    }

    /// When [`Connection::handle_timeout`] should next be called.
    #[must_use = "without arming a timer for it, keepalive, close and message deadlines never run"]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Client(_) | Phase::Server(..) | Phase::Deciding(_) => self.handshake_deadline,
            Phase::Refusing { .. } | Phase::Closing => self.close_deadline,
            Phase::Open => {
                let keepalive = self.config.keepalive.map(|k| match self.ping_sent {
                    Some(sent) => sent + k.timeout,
                    None => self.last_received + k.interval,
                });
                let idle = self
                    .config
                    .idle_timeout
                    .map(|idle| self.last_received + idle);
                [keepalive, idle, self.message_deadline()]
                    .into_iter()
                    .flatten()
                    .min()
            }
            Phase::Closed => None,
        }
    }

    /// When the data message in progress must have ended.
    fn message_deadline(&self) -> Option<Instant> {
        let since = self.reader.message_since()?;
        Some(since + self.config.message_timeout?)
    }

    // ----- state ----------------------------------------------------------

    /// CONNECTING, OPEN, CLOSING or CLOSED.
    pub fn ready_state(&self) -> ReadyState {
        match self.phase {
            Phase::Client(_) | Phase::Server(..) | Phase::Deciding(_) => ReadyState::Connecting,
            Phase::Open => ReadyState::Open,
            Phase::Refusing { .. } | Phase::Closing => ReadyState::Closing,
            Phase::Closed => ReadyState::Closed,
        }
    }

    /// Application payload bytes queued and not yet taken by the transport.
    pub fn buffered_amount(&self) -> usize {
        self.out.buffered()
    }

    /// Whether there are bytes to write.
    pub fn wants_write(&self) -> bool {
        !self.out.is_empty()
    }

    /// Whether the last [`Connection::receive`] stopped at
    /// [`Config::max_pending_events`] with bytes left in its input (whole
    /// frames, perhaps): once [`Connection::poll_event`] is drained, call
    /// `receive` again with the same buffer before reading more. An
    /// adapter that reads only while this is false holds at most
    /// `max_pending_events` events and one read's worth of input.
    pub fn needs_receive(&self) -> bool {
        self.stalled && !self.reader_done && self.wants_read()
    }

    /// How many events wait for [`Connection::poll_event`] (counting the
    /// reactions, pongs and close replies, that take effect there). An
    /// adapter that reads only when this is 0 holds at most one read's
    /// worth of decoded messages.
    pub fn pending_events(&self) -> usize {
        self.events.len()
    }

    /// Whether the connection still needs bytes from the transport.
    pub fn wants_read(&self) -> bool {
        !matches!(
            self.phase,
            Phase::Closed | Phase::Deciding(_) | Phase::Refusing { .. }
        )
    }

    /// Our role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The negotiated subprotocol, once OPEN.
    pub fn protocol(&self) -> Option<&str> {
        self.negotiated.protocol.as_deref()
    }

    /// The negotiated `Sec-WebSocket-Extensions` value, once OPEN.
    pub fn extensions(&self) -> Option<&str> {
        self.negotiated.extensions.as_deref()
    }

    /// Why the connection failed, if it did.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    // ----- transitions ----------------------------------------------------

    fn apply_peer_close(&mut self, frame: Option<(CloseCode, String)>, now: Instant) {
        if matches!(self.phase, Phase::Closed) || self.close_received.is_some() {
            return;
        }
        if self.close_sent.is_none() {
            // Echo the code and the reason, as Node ws and python
            // websockets do: browsers show the reason in CloseEvent, and a
            // peer's reason already fits a close frame (§5.5).
            let echo = frame
                .as_ref()
                .map(|(code, reason)| (*code, reason.as_str()));
            self.send_close(echo, now);
        }
        self.close_received = Some(frame.unwrap_or((CloseCode::NO_STATUS, String::new())));
        self.progress();
    }

    fn open(&mut self, protocol: Option<String>, extensions: Option<String>) {
        self.negotiated = Open {
            protocol,
            extensions,
        };
        self.phase = Phase::Open;
        self.handshake_deadline = None;
        self.push(Event::Open(self.negotiated.clone()));
    }

    /// The policy's answer to a request our own reader parsed.
    fn respond(&mut self, request: &Request, accept: Accept) {
        match self.answer(request, accept) {
            Ok(head) => self.out.push_raw(&head.to_http11()),
            // A policy whose headers cannot be written: a server error.
            Err(e) => {
                let error = match e {
                    SendError::InvalidField(field) => HandshakeError::InvalidField(field),
                    _ => HandshakeError::Refused(500),
                };
                self.refuse(&Reject::from(&error), error)
            }
        }
    }

    /// Accepts `request`: checks the answer, negotiates extensions, opens.
    /// On an error nothing changed.
    fn answer(&mut self, request: &Request, mut accept: Accept) -> Result<ResponseHead, SendError> {
        if let Some(protocol) = &accept.protocol {
            if !request.protocols.contains(protocol) {
                return Err(SendError::ProtocolNotOffered(protocol.clone()));
            }
        }
        accept.check().map_err(SendError::InvalidField)?;
        let agreed = negotiate::accept(request, &mut accept, &self.config);
        let head = request.response(&accept).map_err(SendError::InvalidField)?;
        if let Some(extension) = agreed {
            self.set_extension(extension);
        }
        self.open(accept.protocol, accept.extensions);
        Ok(head)
    }

    /// Client side: runs what the server's response selected.
    fn start_extension(&mut self, selected: Option<&str>) -> Result<(), HandshakeError> {
        if let Some(extension) = negotiate::check(selected, &self.config)? {
            self.set_extension(extension);
        }
        Ok(())
    }

    fn set_extension(&mut self, extension: Box<dyn Extension>) {
        self.reader.allow_rsv(extension.rsv());
        self.extension = Some(extension);
    }

    /// Queues a data frame, through the extension when `transform`.
    fn push_data(&mut self, opcode: OpCode, fin: bool, transform: bool, payload: Bytes) {
        let mask = self.mask_key();
        let amount = Some(payload.len());
        match self.extension.as_mut().filter(|_| transform) {
            Some(extension) => {
                let mut out = alloc::vec::Vec::new();
                extension.encode(&payload, fin, &mut out);
                // RSV bits on the first frame of the message only.
                let rsv = if opcode == OpCode::Continuation {
                    0
                } else {
                    extension.rsv()
                };
                self.out
                    .push_frame(opcode, (fin, rsv), out.into(), mask, amount);
            }
            None => self.out.push_frame(opcode, (fin, 0), payload, mask, amount),
        }
    }

    /// Writes a refusal already checked ([`Reject::check`]).
    fn refuse(&mut self, reject: &Reject, error: HandshakeError) {
        self.out.push_raw(&reject.to_bytes().unwrap_or_default());
        self.report(Error::Handshake(error));
        self.phase = Phase::Refusing {
            end: self.out.end(),
        };
        self.close_deadline = Some(self.last_received + self.config.close_timeout);
        self.progress();
    }

    /// Fails the connection (RFC 6455 §7.1.7): send a close frame with the
    /// error's code, and close once it is written. Returns the error to
    /// report, `None` if the connection had already failed or closed.
    fn fail(&mut self, error: Error, now: Instant) -> Option<Error> {
        if self.failed || matches!(self.phase, Phase::Closed) {
            return None;
        }
        self.failed = true;
        self.reader_done = true;
        self.error = Some(error.clone());
        if self.close_sent.is_none() {
            let reason = error.to_string();
            let reason = truncate(&reason, MAX_REASON_LEN);
            self.send_close(Some((error.close_code(), reason)), now);
        }
        self.progress();
        Some(error)
    }

    fn send_close(&mut self, frame: Option<(CloseCode, &str)>, now: Instant) {
        let mut payload = alloc::vec::Vec::new();
        if let Some((code, reason)) = frame.filter(|(code, _)| *code != CloseCode::NO_STATUS) {
            payload.extend_from_slice(&code.0.to_be_bytes());
            payload.extend_from_slice(reason.as_bytes());
        }
        let mask = self.mask_key();
        self.out
            .push_frame(OpCode::Close, (true, 0), payload.into(), mask, None);
        self.close_sent = Some(self.out.end());
        self.pong_pending = None;
        self.phase = Phase::Closing;
        self.close_deadline = Some(now + self.config.close_timeout);
    }

    /// Moves to CLOSED when what we were waiting to write is written.
    fn progress(&mut self) {
        let written = self.out.written();
        match self.phase {
            Phase::Refusing { end } if written >= end => self.finish(false),
            Phase::Closing => {
                let flushed = self.close_sent.is_some_and(|end| written >= end);
                if !flushed {
                    return;
                }
                if self.failed {
                    self.finish(false);
                } else if self.close_received.is_some() && self.role == Role::Server {
                    self.finish(true);
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self, was_clean: bool) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        self.phase = Phase::Closed;
        self.handshake_deadline = None;
        self.close_deadline = None;
        self.pong_pending = None;
        let (code, reason) = self
            .close_received
            .clone()
            .unwrap_or((CloseCode::ABNORMAL, String::new()));
        self.push(Event::Closed(CloseEvent {
            code,
            reason,
            was_clean,
        }));
    }

    fn push(&mut self, event: Event) {
        self.events.push_back(Queued::Event(event));
    }

    /// Reports an error that ends the connection at once.
    fn report(&mut self, error: Error) {
        if self.error.is_none() {
            self.error = Some(error.clone());
            self.push(Event::Error(error));
        }
    }

    fn queue_pong(&mut self, payload: Bytes) {
        if self.close_sent.is_some() {
            return;
        }
        if self.pongs.len() >= MAX_UNWRITTEN_PONGS {
            self.pong_pending = Some(payload);
            return;
        }
        let mask = self.mask_key();
        self.out
            .push_frame(OpCode::Pong, (true, 0), payload, mask, None);
        self.pongs.push_back(self.out.end());
    }

    fn check_can_send(&self) -> Result<(), SendError> {
        match self.phase {
            Phase::Open => Ok(()),
            Phase::Client(_) | Phase::Server(..) | Phase::Deciding(_) => Err(SendError::NotOpen),
            _ => Err(SendError::Closing),
        }
    }

    fn has_room(&self, payload_len: usize) -> bool {
        self.out.is_empty() || self.out.len().saturating_add(payload_len) <= self.config.max_queued
    }

    fn mask_key(&mut self) -> Option<[u8; 4]> {
        let entropy = self.entropy.as_mut()?;
        let mut key = [0; 4];
        entropy.fill(&mut key);
        Some(key)
    }
}

fn opcode_of(kind: Kind) -> OpCode {
    match kind {
        Kind::Text => OpCode::Text,
        Kind::Binary => OpCode::Binary,
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a
/// character boundary.
fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(all(test, feature = "deflate"))]
mod deflate_tests;
#[cfg(test)]
mod tests;
