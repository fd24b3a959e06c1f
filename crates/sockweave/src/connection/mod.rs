//! [`Connection`]: one WebSocket connection, either role, from the opening
//! handshake to CLOSED. Every state transition lives in this file; the
//! other files make connections (`constructors`), queue what the
//! application sends (`send`), read frames (`reader`), hold the outbound
//! bytes (`outbound`), the events (`events`) and the deadlines (`timers`),
//! and answer the host's questions (`accessors`).
//!
//! ```text
//!   Client(handshake) ─┐                  ┌─ Refusing{end} ──written──┐
//!   Server(handshake) ─┼──request/101─────┤                           │
//!   Deciding(request) ─┘   (accept)       └──► Open                   │
//!          │ handshake failed, timeout, EOF       │                   │
//!          │                                      │ our close queued: │
//!          │                 close(), peer close, │ close(), echo of  │
//!          │                 failure, timeouts    ▼ the peer's, fail  │
//!          │        Closing{sent, received, failed}                   │
//!          │           │ failed and written ──────────────┐           │
//!          │           │ server: received and written ────┤           │
//!          │           │ client: EOF; close timeout ──────┤           │
//!          └───────────┴──────────────────────────────────┴──► Closed ◄┘
//! ```
//!
//! - CONNECTING (`Client`, `Server`, `Deciding`): the client waits for
//!   `101`; the server waits for the request (and, with
//!   [`ServerPolicy::defer`], for the application's
//!   [`Connection::accept`] or [`Connection::reject`]). `Refusing` writes
//!   an HTTP refusal and ends (readyState CLOSING).
//! - OPEN: messages flow both ways.
//! - CLOSING: our close frame is queued (`sent` is where it ends on the
//!   wire); the peer's may have arrived (`received`); `failed` if we
//!   failed the connection, which ends as soon as our frame is written.
//!   After a completed closing handshake the server is CLOSED once its
//!   close frame is written (it closes the transport first, RFC 6455
//!   §7.1.1); the client waits for the server to close the transport
//!   ([`Connection::receive_eof`]) or for the close timeout. A close is
//!   clean only by [`Closing::was_clean`]: both frames, ours written, no
//!   failure.
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

mod accessors;
mod constructors;
mod events;
mod negotiate;
mod outbound;
mod pongs;
mod reader;
mod send;
mod timers;

use crate::close::{CloseCode, MAX_REASON_LEN};
use crate::config::Config;
use crate::error::{Error, SendError, Timeout};
use crate::event::{CloseEvent, Event, Negotiated};
use crate::extension::Extension;
use crate::frame::OpCode;
use crate::handshake::{
    Accept, ClientHandshake, HandshakeError, Reject, Request, ResponseHead, ServerHandshake,
    ServerPolicy,
};
use crate::message::MessageKind;
use crate::time::Instant;
use crate::{Entropy, Role};
use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use bytes::{Bytes, BytesMut};
use events::Events;
pub(crate) use events::{EVENT_SLOT, EVENTS_BOX};
use outbound::Outbound;
use pongs::Pongs;
pub(crate) use pongs::{MAX_UNWRITTEN_PONGS, PONGS_SLOT};
use reader::Reader;
use timers::{Due, Timers};

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
// The handshake phases and CLOSING are boxed: an OPEN connection, which
// is what sits idle by the thousand, carries none of their bytes inline.
enum Phase {
    Client(Box<ClientHandshake>),
    Server(Box<(ServerHandshake, ServerPolicy)>),
    Deciding(Box<Request>),
    /// A refusal is being written; CLOSED once it is.
    Refusing {
        end: u64,
    },
    Open,
    Closing(Box<Closing>),
    Closed,
}

/// CLOSING: our close frame is queued (entering CLOSING is queueing it),
/// and the peer's may have arrived.
#[derive(Debug)]
struct Closing {
    /// Wire offset where our close frame ends.
    sent: u64,
    /// The peer's close frame: its code (`NO_STATUS` if it had none) and
    /// reason.
    received: Option<(CloseCode, String)>,
    /// We failed the connection: CLOSED once our frame is written, and
    /// never clean.
    failed: bool,
}

impl Closing {
    /// Whether the closing handshake completed (RFC 6455 §7.1.4, WHATWG
    /// `wasClean`): both close frames went, ours was written, and we did
    /// not fail the connection. The one definition of a clean close.
    fn was_clean(&self, written: u64) -> bool {
        !self.failed && self.received.is_some() && written >= self.sent
    }
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
pub(crate) const SHRINK_ABOVE: usize = 256 << 10;

/// Moves a small remainder out of a buffer that was large (`capacity`
/// before frames were split off it; see [`SHRINK_ABOVE`]).
fn shrink(input: &mut BytesMut, capacity: usize) {
    if capacity > SHRINK_ABOVE && input.len() < SHRINK_ABOVE / 4 {
        *input = BytesMut::from(&input[..]);
    }
}

/// A WebSocket connection without I/O. See the [crate docs](crate) for the
/// drive loop.
pub struct Connection {
    role: Role,
    /// Shared by every connection made with the same `Arc`.
    config: Arc<Config>,
    phase: Phase,
    reader: Reader,
    out: Outbound,
    /// Boxed twice, as `extension`: a thin pointer (8 bytes, not 16) in
    /// every connection, for a call per frame (client) or per message.
    entropy: Option<Box<Box<dyn Entropy>>>,
    events: Events,
    /// What the handshake negotiated; `None` while nothing was (the
    /// common case: no subprotocol, no extension).
    negotiated: Option<Box<Negotiated>>,
    /// `receive` stopped at its event budget with bytes left.
    stalled: bool,
    error: Option<Box<Error>>,
    /// The negotiated extension, if any.
    extension: Option<Box<Box<dyn Extension>>>,
    /// MessageKind of the message being sent in pieces, if any, and whether the
    /// extension transforms it.
    sending: Option<(MessageKind, bool)>,
    /// Pongs queued and not yet written; boxed, and `None` whenever none
    /// waits, so an idle connection carries none of it.
    pongs: Option<Box<Pongs>>,
    timers: Timers,
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
            self.timers.received(now);
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
                Phase::Server(server) => match server.0.receive(input) {
                    Ok(None) => return,
                    Ok(Some(request)) if server.1.defer => {
                        self.push(Event::Request(Box::new(request.clone())));
                        self.phase = Phase::Deciding(Box::new(request));
                        return;
                    }
                    Ok(Some(request)) => match server.1.decide(&request) {
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
                Phase::Open | Phase::Closing(_) => break,
            }
        }
        while !self.reader.is_stopped() {
            let (max_events, max_bytes) =
                (self.config.max_pending_events, self.config.max_message_len);
            if self.events.is_full(max_events, max_bytes) && !input.is_empty() {
                self.stalled = true;
                break;
            }
            match self.reader.next(
                input,
                now,
                &self.config,
                self.extension.as_deref_mut().map(|e| &mut **e),
            ) {
                Ok(Some(queued)) => {
                    // Nothing after a close frame is read (§5.5.1).
                    if matches!(queued, Queued::PeerClose(..)) {
                        self.reader.stop();
                    }
                    self.events.push(queued);
                }
                Ok(None) => break,
                Err(e) => {
                    self.reader.stop();
                    self.events.push(Queued::Fail(Error::Protocol(e), now));
                }
            }
        }
        if self.reader.is_stopped() {
            input.clear();
        }
        shrink(input, capacity);
    }

    /// The transport reached end of input (or failed). Ends the connection;
    /// clean only if the closing handshake had completed. Takes effect in
    /// order, after the events of bytes received before it.
    pub fn receive_eof(&mut self, _now: Instant) {
        if matches!(self.phase, Phase::Open | Phase::Closing(_)) {
            self.reader.stop();
            self.events.push(Queued::Eof);
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
            Phase::Closing(ref closing) => {
                let clean = closing.was_clean(self.out.written());
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
            Phase::Refusing { .. } | Phase::Closing(_) => {}
        }
        self.out.discard();
        self.pongs = None;
        self.reader.stop();
        self.finish(false);
    }

    /// Runs the timers that are due at `now`. Harmless to call early.
    pub fn handle_timeout(&mut self, now: Instant) {
        // Each action moves its timer past `now` or leaves OPEN, so this
        // ends; the bound is for the reader's peace of mind.
        for _ in 0..4 {
            let open = matches!(self.phase, Phase::Open);
            let since = self.reader.message_since();
            let Some(due) = self.timers.due(now, open, &self.config, since) else {
                return;
            };
            match due {
                Due::Phase => match &self.phase {
                    Phase::Client(_) | Phase::Server(..) | Phase::Deciding(_) => {
                        self.report(Error::Timeout(Timeout::Handshake));
                        self.finish(false);
                    }
                    Phase::Refusing { .. } => self.finish(false),
                    Phase::Closing(closing) => {
                        // A peer that stopped reading never got our frame.
                        let clean = closing.was_clean(self.out.written());
                        if !clean && !closing.failed {
                            self.report(Error::Timeout(Timeout::Close));
                        }
                        self.finish(clean);
                    }
                    Phase::Open | Phase::Closed => {}
                },
                Due::Message | Due::Pong => {
                    let timeout = match due {
                        Due::Message => Timeout::Message,
                        _ => Timeout::Pong,
                    };
                    if let Some(error) = self.fail(Error::Timeout(timeout), now) {
                        self.push(Event::Error(error));
                    }
                }
                Due::Ping => {
                    let mask = self.mask_key();
                    self.out
                        .push_frame(OpCode::Ping, (true, 0), Bytes::new(), mask, None);
                    self.timers.ping_sent(now);
                }
                Due::Idle => {
                    // Our own close, so it may end cleanly; the error says
                    // why it happened.
                    self.report(Error::Timeout(Timeout::Idle));
                    let _ = self.close(CloseCode::GOING_AWAY, "idle timeout", now);
                }
            }
        }
    }

    // ----- application calls ----------------------------------------------

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
            Phase::Open => {
                self.send_close(Some((code, reason)), now, false);
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
            match self.events.pop()? {
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
        if let Some(pongs) = &mut self.pongs {
            let pending = pongs.written(written);
            if pongs.is_done() {
                self.pongs = None;
            }
            if let Some(payload) = pending {
                self.queue_pong(payload);
            }
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
        let open = matches!(self.phase, Phase::Open);
        self.timers
            .next(open, &self.config, self.reader.message_since())
    }

    // ----- state ----------------------------------------------------------

    /// CONNECTING, OPEN, CLOSING or CLOSED.
    pub fn ready_state(&self) -> ReadyState {
        match self.phase {
            Phase::Client(_) | Phase::Server(..) | Phase::Deciding(_) => ReadyState::Connecting,
            Phase::Open => ReadyState::Open,
            Phase::Refusing { .. } | Phase::Closing(_) => ReadyState::Closing,
            Phase::Closed => ReadyState::Closed,
        }
    }

    // ----- transitions ----------------------------------------------------

    fn apply_peer_close(&mut self, frame: Option<(CloseCode, String)>, now: Instant) {
        if matches!(self.phase, Phase::Open) {
            // Echo the code and the reason, as Node ws and python
            // websockets do: browsers show the reason in CloseEvent, and a
            // peer's reason already fits a close frame (§5.5).
            let echo = frame
                .as_ref()
                .map(|(code, reason)| (*code, reason.as_str()));
            self.send_close(echo, now, false);
        }
        let Phase::Closing(closing) = &mut self.phase else {
            return;
        };
        if closing.received.is_none() {
            closing.received = Some(frame.unwrap_or((CloseCode::NO_STATUS, String::new())));
            self.progress();
        }
    }

    fn open(&mut self, protocol: Option<String>, extensions: Option<String>) {
        let negotiated = Negotiated {
            protocol,
            extensions,
        };
        self.negotiated =
            (negotiated != Negotiated::default()).then(|| Box::new(negotiated.clone()));
        self.phase = Phase::Open;
        self.timers.end_phase();
        self.push(Event::Open(negotiated));
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
        self.reader.allow_rsv(extension.rsv(), &self.config);
        self.extension = Some(Box::new(extension));
    }

    /// Writes a refusal already checked ([`Reject::check`]).
    fn refuse(&mut self, reject: &Reject, error: HandshakeError) {
        self.out.push_raw(&reject.to_bytes().unwrap_or_default());
        self.report(Error::Handshake(error));
        self.phase = Phase::Refusing {
            end: self.out.end(),
        };
        let since = self.timers.last_received();
        self.timers.start_phase(since, self.config.close_timeout);
        self.progress();
    }

    /// Fails the connection (RFC 6455 §7.1.7): send a close frame with the
    /// error's code, and close once it is written. Returns the error to
    /// report, `None` if the connection had already failed or closed.
    fn fail(&mut self, error: Error, now: Instant) -> Option<Error> {
        self.reader.stop();
        match &mut self.phase {
            Phase::Open => {
                let reason = error.to_string();
                let reason = truncate(&reason, MAX_REASON_LEN);
                self.send_close(Some((error.close_code(), reason)), now, true);
            }
            Phase::Closing(closing) if !closing.failed => closing.failed = true,
            _ => return None,
        }
        self.error = Some(Box::new(error.clone()));
        self.progress();
        Some(error)
    }

    /// Queues our close frame: OPEN becomes CLOSING.
    fn send_close(&mut self, frame: Option<(CloseCode, &str)>, now: Instant, failed: bool) {
        let mut payload = alloc::vec::Vec::new();
        if let Some((code, reason)) = frame.filter(|(code, _)| *code != CloseCode::NO_STATUS) {
            payload.extend_from_slice(&code.0.to_be_bytes());
            payload.extend_from_slice(reason.as_bytes());
        }
        let mask = self.mask_key();
        self.out
            .push_frame(OpCode::Close, (true, 0), payload.into(), mask, None);
        if let Some(pongs) = &mut self.pongs {
            pongs.forget_pending();
        }
        self.phase = Phase::Closing(Box::new(Closing {
            sent: self.out.end(),
            received: None,
            failed,
        }));
        self.timers.start_phase(now, self.config.close_timeout);
    }

    /// Moves to CLOSED when what we were waiting to write is written.
    fn progress(&mut self) {
        let written = self.out.written();
        match &self.phase {
            Phase::Refusing { end } if written >= *end => self.finish(false),
            Phase::Closing(closing) if written >= closing.sent => {
                if closing.failed {
                    self.finish(false);
                } else if closing.received.is_some() && self.role == Role::Server {
                    // The server closes the transport first (§7.1.1).
                    self.finish(true);
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self, was_clean: bool) {
        let received = match core::mem::replace(&mut self.phase, Phase::Closed) {
            Phase::Closed => return,
            Phase::Closing(closing) => closing.received,
            _ => None,
        };
        self.timers.end_phase();
        if let Some(pongs) = &mut self.pongs {
            pongs.forget_pending();
        }
        let (code, reason) = received.unwrap_or((CloseCode::ABNORMAL, String::new()));
        self.push(Event::Closed(CloseEvent {
            code,
            reason,
            was_clean,
        }));
    }

    fn push(&mut self, event: Event) {
        self.events.push(Queued::Event(event));
    }

    /// Reports an error that ends the connection at once.
    fn report(&mut self, error: Error) {
        if self.error.is_none() {
            self.error = Some(Box::new(error.clone()));
            self.push(Event::Error(error));
        }
    }

    fn queue_pong(&mut self, payload: Bytes) {
        if !matches!(self.phase, Phase::Open) {
            return;
        }
        let Some(payload) = self.pongs.get_or_insert_with(Box::default).defer(payload) else {
            return;
        };
        let mask = self.mask_key();
        self.out
            .push_frame(OpCode::Pong, (true, 0), payload, mask, None);
        let end = self.out.end();
        self.pongs.get_or_insert_with(Box::default).queued(end);
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

#[cfg(test)]
mod broadcast_tests;
#[cfg(all(test, feature = "deflate"))]
mod deflate_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
