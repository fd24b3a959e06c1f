//! The inbound half: frames out of the caller's buffer, messages out of
//! frames.
//!
//! A single-frame message (the common case) is processed in place: each
//! time more of it arrives, only the new bytes are unmasked and validated,
//! and once it is complete it is split off the caller's buffer as shared
//! `Bytes`, with no copy. Fragmented messages are appended to one buffer as
//! their bytes arrive, so a fragment costs nothing but its payload. In
//! streaming mode every piece is handed on as it arrives instead.
//!
//! A message whose first frame carries the negotiated extension's RSV bits
//! goes through the extension piece by piece as it arrives (never in
//! place); the message limit then applies to the restored bytes, and UTF-8
//! is checked on them.

use super::Queued;
use crate::Role;
use crate::close;
use crate::config::Config;
use crate::error::ProtocolError;
use crate::event::{Event, Fragment};
use crate::extension::{Extension, wire_bound};
use crate::frame::{DecodeRules, FrameHeader, OpCode, Status, decode_header};
use crate::mask;
use crate::message::{Message, MessageKind};
use crate::time::Instant;
use crate::utf8::{Text, Utf8Error, Validator};
use alloc::vec::Vec;
use bytes::{Buf, Bytes, BytesMut};

#[derive(Debug)]
pub(super) struct Reader {
    rules: DecodeRules,
    frame: Option<InFrame>,
    /// The fragmented, streamed or compressed message in progress (boxed:
    /// most messages are one frame, handled in place, and an idle
    /// connection carries none of it).
    message: Option<alloc::boxed::Box<InMessage>>,
    utf8: Validator,
    /// Streaming text: the start of a code point held back from the last piece.
    carry: ([u8; 4], u8),
    /// A second piece produced by the same chunk (streaming text only).
    queued: Option<alloc::boxed::Box<Queued>>,
    /// When the first frame of the data message in progress began.
    message_since: Option<Instant>,
    /// Nothing more is read: the peer's close frame or a violation was
    /// seen, or the transport ended (§5.5.1: nothing after a close frame).
    stopped: bool,
}

#[derive(Debug)]
struct InFrame {
    header: FrameHeader,
    /// Whether the payload stays in the caller's buffer until complete.
    in_place: bool,
    /// Payload bytes already processed: in place, those at the front of the
    /// buffer; otherwise, those already taken out of it.
    done: u64,
}

#[derive(Debug)]
struct InMessage {
    kind: MessageKind,
    buf: Vec<u8>,
    len: u64,
    fragments: u32,
    started: bool,
    /// The extension restores its payload.
    transformed: bool,
}

impl Reader {
    pub(super) fn new(role: Role, config: &Config) -> Self {
        Self {
            rules: DecodeRules::new(role, config.max_frame_len),
            frame: None,
            message: None,
            utf8: Validator::new(),
            carry: ([0; 4], 0),
            queued: None,
            message_since: None,
            stopped: false,
        }
    }

    pub(super) fn stop(&mut self) {
        self.stopped = true;
    }

    pub(super) fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Where the frame now arriving ends, counted from the start of the
    /// caller's unprocessed bytes: `buffered` already there, `next` about
    /// to follow. In place, the buffer holds the payload from its start;
    /// otherwise what was taken out of it is `done`. 0 when unknown: no
    /// frame in progress and none starting at `next` (a partial header
    /// waits, say).
    pub(super) fn frame_end(&self, buffered: usize, next: &[u8]) -> u64 {
        if let Some(frame) = &self.frame {
            let held = if frame.in_place { 0 } else { frame.done };
            return frame.header.payload_len - held;
        }
        if buffered > 0 {
            return 0;
        }
        match decode_header(next, &self.rules) {
            Ok(Status::Complete((header, header_len))) => header_len as u64 + header.payload_len,
            _ => 0,
        }
    }

    /// When the data message in progress began to arrive (its first frame
    /// header), if one is in progress.
    pub(super) fn message_since(&self) -> Option<Instant> {
        self.message_since
    }

    /// Accepts the RSV bits of a negotiated extension on the first frame
    /// of a message, with room for transformed frames to be larger on the
    /// wire than the frame limit.
    pub(super) fn allow_rsv(&mut self, rsv: u8, config: &Config) {
        self.rules.allowed_rsv = rsv;
        self.rules.max_frame_len = wire_bound(config.max_frame_len);
    }

    /// Takes the next item out of `input`, `None` when more bytes are needed.
    /// A close frame comes out as [`Queued::PeerClose`] stamped with `now`.
    #[inline]
    pub(super) fn next(
        &mut self,
        input: &mut BytesMut,
        now: Instant,
        config: &Config,
        mut extension: Option<&mut (dyn Extension + 'static)>,
    ) -> Result<Option<Queued>, ProtocolError> {
        if let Some(item) = self.queued.take() {
            return Ok(Some(*item));
        }
        loop {
            let Some(frame) = &mut self.frame else {
                let (header, header_len) = match decode_header(input, &self.rules)? {
                    Status::Complete(found) => found,
                    Status::Partial { .. } => return Ok(None),
                };
                let in_place = self.start_frame(&header, config)?;
                input.advance(header_len);
                if matches!(header.opcode, OpCode::Text | OpCode::Binary) {
                    self.message_since = Some(now);
                }
                self.frame = Some(InFrame {
                    header,
                    in_place,
                    done: 0,
                });
                continue;
            };
            let header = frame.header;
            if frame.in_place {
                // Bounded by max_frame_len, which was checked to fit.
                let len = header.payload_len as usize;
                let have = input.len().min(len);
                let done = frame.done as usize;
                if have > done {
                    let new = &mut input[done..have];
                    if let Some(key) = header.mask {
                        mask::apply(new, key, done);
                    }
                    if header.opcode == OpCode::Text {
                        self.utf8.feed(new).map_err(invalid)?;
                    }
                    frame.done = have as u64;
                }
                if have < len {
                    return Ok(None);
                }
                if done > 0 && header.opcode == OpCode::Text {
                    // The front of this payload was checked in an earlier
                    // call, in whatever buffer the caller passed then; the
                    // caller could have passed another one (or changed it)
                    // since. A `Text` must hold UTF-8 whatever the caller
                    // does, so a text frame that spanned calls is checked
                    // again whole (frames that arrive in one call, the
                    // common case, are not).
                    crate::utf8::check(&input[..len]).map_err(invalid)?;
                }
                self.frame = None;
                let payload = if len > 0 && input.len() == len && input.capacity() <= 2 * len {
                    // The frame is the rest of the buffer (one read, one
                    // message: the common case), so the buffer itself
                    // becomes the payload, without the allocation that
                    // sharing it takes. Only when it is at most twice the
                    // payload: a message never pins a much larger buffer.
                    core::mem::take(input).freeze()
                } else {
                    input.split_to(len).freeze()
                };
                if !header.opcode.is_control() {
                    self.message_since = None;
                }
                return self.complete_in_place(header, payload, now).map(Some);
            }
            let remaining = header.payload_len - frame.done;
            let take = remaining.min(input.len() as u64) as usize;
            if take == 0 && remaining > 0 {
                return Ok(None);
            }
            let shares_a_larger_buffer = take < input.capacity() / 2;
            let mut chunk = input.split_to(take);
            if shares_a_larger_buffer {
                // A piece kept by reference would pin the whole read
                // buffer: a peer trickling one byte per read could make a
                // million pieces hold a million buffers. Small pieces are
                // copied, so each holds at most twice its own bytes.
                chunk = BytesMut::from(&chunk[..]);
            }
            if let Some(key) = header.mask {
                mask::apply(&mut chunk, key, (frame.done % 4) as usize);
            }
            frame.done += take as u64;
            let frame_done = frame.done == header.payload_len;
            if frame_done {
                self.frame = None;
            }
            let last = frame_done && header.fin;
            if last {
                self.message_since = None;
            }
            if let Some(item) = self.append(chunk, last, config, extension.as_deref_mut())? {
                return Ok(Some(item));
            }
            if !frame_done {
                return Ok(None);
            }
        }
    }

    /// Checks a new frame against the message in progress and the limits;
    /// returns whether its payload is processed in place.
    fn start_frame(
        &mut self,
        header: &FrameHeader,
        config: &Config,
    ) -> Result<bool, ProtocolError> {
        let len = header.payload_len;
        let kind = match header.opcode {
            // Extension bits belong on the first frame of a message only.
            _ if header.rsv != 0 && !matches!(header.opcode, OpCode::Text | OpCode::Binary) => {
                return Err(ProtocolError::ReservedBits(header.rsv));
            }
            OpCode::Continuation => {
                let transformed = self
                    .message
                    .as_ref()
                    .ok_or(ProtocolError::UnexpectedContinuation)?
                    .transformed;
                let (max_frame, max) = limits(transformed, config);
                check_frame(len, max_frame)?;
                let message = self.message.as_mut().expect("checked above");
                if message.fragments >= config.max_fragments {
                    return Err(ProtocolError::TooManyFragments {
                        max: config.max_fragments,
                    });
                }
                let total = message.len.saturating_add(len);
                if total > max {
                    return Err(ProtocolError::MessageTooLarge { len: total, max });
                }
                message.fragments += 1;
                return Ok(false);
            }
            OpCode::Text => MessageKind::Text,
            OpCode::Binary => MessageKind::Binary,
            OpCode::Close | OpCode::Ping | OpCode::Pong => return Ok(true),
        };
        if self.message.is_some() {
            return Err(ProtocolError::ExpectedContinuation);
        }
        let transformed = header.rsv != 0;
        let (max_frame, max) = limits(transformed, config);
        check_frame(len, max_frame)?;
        if len > max {
            return Err(ProtocolError::MessageTooLarge { len, max });
        }
        self.utf8 = Validator::new();
        if header.fin && !config.streaming && !transformed {
            return Ok(true);
        }
        self.message = Some(alloc::boxed::Box::new(InMessage {
            kind,
            buf: Vec::new(),
            len: 0,
            fragments: 1,
            started: false,
            transformed,
        }));
        Ok(false)
    }

    #[inline]
    fn complete_in_place(
        &mut self,
        header: FrameHeader,
        payload: Bytes,
        now: Instant,
    ) -> Result<Queued, ProtocolError> {
        Ok(match header.opcode {
            OpCode::Text => {
                self.utf8.finish().map_err(invalid)?;
                Queued::Event(Event::Message(Message::Text(Text::from_validated(payload))))
            }
            OpCode::Binary => Queued::Event(Event::Message(Message::Binary(payload))),
            OpCode::Ping => Queued::Ping(payload),
            OpCode::Pong => Queued::Event(Event::Pong(payload)),
            OpCode::Close => {
                let parsed = close::parse_payload(&payload)?;
                Queued::PeerClose(parsed.map(|(code, reason)| (code, reason.into())), now)
            }
            OpCode::Continuation => unreachable!("continuations are never processed in place"),
        })
    }

    /// Adds a piece of the message in progress; returns what is ready.
    fn append(
        &mut self,
        chunk: BytesMut,
        last: bool,
        config: &Config,
        extension: Option<&mut (dyn Extension + 'static)>,
    ) -> Result<Option<Queued>, ProtocolError> {
        let message = self
            .message
            .as_mut()
            .expect("a data frame outside in-place mode has a message");
        message.len += chunk.len() as u64;
        let text = message.kind == MessageKind::Text;
        if message.transformed {
            let extension = extension.expect("RSV bits are only allowed with an extension");
            if config.streaming {
                let mut restored = Vec::new();
                extension.decode(&chunk, last, config.max_message_len, &mut restored)?;
                // The inflater sizes its output room generously; a piece
                // waiting for the application holds only its own bytes.
                restored.shrink_to_fit();
                if text {
                    feed(&mut self.utf8, &restored, last)?;
                }
                return Ok(self.stream(Bytes::from(restored), last));
            }
            let from = message.buf.len();
            extension.decode(&chunk, last, config.max_message_len, &mut message.buf)?;
            if text {
                feed(&mut self.utf8, &message.buf[from..], last)?;
            }
        } else {
            if text {
                feed(&mut self.utf8, &chunk, last)?;
            }
            if config.streaming {
                return Ok(self.stream(chunk.freeze(), last));
            }
            reserve_capped(&mut message.buf, chunk.len(), config.max_message_len);
            message.buf.extend_from_slice(&chunk);
        }
        if !last {
            return Ok(None);
        }
        let mut message = self.message.take().expect("checked above");
        // Buffers grow by doubling (and inflating leaves room): a message
        // waiting for the application holds only its own bytes, which is
        // what the pinned budget counts (`Config::pinned_budget`).
        message.buf.shrink_to_fit();
        let bytes = Bytes::from(message.buf);
        Ok(Some(Queued::Event(Event::Message(match message.kind {
            MessageKind::Text => Message::Text(Text::from_validated(bytes)),
            MessageKind::Binary => Message::Binary(bytes),
        }))))
    }

    /// Streaming mode: hands `chunk` on, holding back an unfinished code
    /// point of text so each piece is valid UTF-8 by itself.
    fn stream(&mut self, mut chunk: Bytes, last: bool) -> Option<Queued> {
        let message = self
            .message
            .as_mut()
            .expect("streaming always tracks the message");
        let kind = message.kind;
        // A code point completed by this chunk goes out as a piece of its own
        // (at most 4 bytes copied), so the chunk itself is never copied.
        let mut head = None;
        if kind == MessageKind::Text {
            let (mut carry, carried) = (self.carry.0, usize::from(self.carry.1));
            let mut completed = true;
            if carried > 0 {
                let need = utf8_width(carry[0]) - carried;
                if chunk.len() < need {
                    carry[carried..carried + chunk.len()].copy_from_slice(&chunk);
                    // At most 3 bytes of a code point are ever held.
                    self.carry = (carry, (carried + chunk.len()) as u8);
                    chunk = Bytes::new();
                    completed = false;
                } else {
                    let mut joined = Vec::with_capacity(4);
                    joined.extend_from_slice(&carry[..carried]);
                    joined.extend_from_slice(&chunk[..need]);
                    head = Some(Bytes::from(joined));
                    chunk.advance(need);
                }
            }
            if completed {
                // What the validator holds back is the tail of this chunk.
                let keep = self.utf8.pending();
                let held = chunk.split_off(chunk.len() - keep);
                let mut carry = [0; 4];
                carry[..keep].copy_from_slice(&held);
                self.carry = (carry, keep as u8);
            }
        }
        let tail = (!chunk.is_empty() || (last && head.is_none())).then_some(chunk);
        let mut piece = |data: Bytes, is_last: bool| {
            let first = !message.started;
            message.started = true;
            Queued::Event(Event::Fragment(Fragment {
                kind,
                data,
                first,
                last: is_last,
            }))
        };
        let out = match (head, tail) {
            (Some(head), Some(tail)) => {
                let first = piece(head, false);
                self.queued = Some(alloc::boxed::Box::new(piece(tail, last)));
                Some(first)
            }
            (Some(head), None) => Some(piece(head, last)),
            (None, Some(tail)) => Some(piece(tail, last)),
            (None, None) => None,
        };
        if last {
            self.message = None;
        }
        out
    }
}

fn utf8_width(lead: u8) -> usize {
    match lead {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

/// The frame and message limits on wire bytes: transformed payloads may be
/// somewhat larger than what they restore to (which is limited exactly).
fn limits(transformed: bool, config: &Config) -> (u64, u64) {
    let (frame, message) = (config.max_frame_len, config.max_message_len);
    if transformed {
        (wire_bound(frame), wire_bound(message))
    } else {
        (frame, message)
    }
}

fn check_frame(len: u64, max: u64) -> Result<(), ProtocolError> {
    if len > max {
        return Err(ProtocolError::FrameTooLarge { len, max });
    }
    Ok(())
}

fn feed(utf8: &mut Validator, bytes: &[u8], last: bool) -> Result<(), ProtocolError> {
    utf8.feed(bytes).map_err(invalid)?;
    if last {
        utf8.finish().map_err(invalid)?;
    }
    Ok(())
}

fn invalid(_: Utf8Error) -> ProtocolError {
    ProtocolError::InvalidUtf8
}

/// Grows `buf` for `more` bytes, doubling as usual but never past `max`, so
/// a message of the maximum size never costs twice the maximum.
fn reserve_capped(buf: &mut Vec<u8>, more: usize, max: u64) {
    let needed = buf.len() + more;
    if needed <= buf.capacity() {
        return;
    }
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    let target = (buf.capacity() * 2).max(needed).min(max.max(needed));
    buf.reserve_exact(target - buf.len());
}
