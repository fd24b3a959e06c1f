//! Differential: the same client bytes (frames after an opening handshake)
//! go to a sockweave server and to a tungstenite server, and both must
//! deliver the same messages and end the same way: a clean close with the
//! same code, a failure of the same class (1002 protocol, 1007 invalid
//! data, 1009 too big), or the end of input without a close.
//!
//! Intended differences, normalised here (docs/fuzzing.md lists them):
//! - a close frame with a code that may not be sent (1005, 1006, 1015,
//!   0–999, 1016–2999): tungstenite takes the close and answers 1002;
//!   sockweave fails the connection with 1002. Both put 1002 on the wire,
//!   so both count as a 1002 failure.
//! - a close frame whose reason is not UTF-8: tungstenite reports an
//!   `Utf8` error (1007 class); sockweave fails with 1007 too.
//! - a frame that declares more than the frame limit and also breaks a
//!   header rule (unmasked, a control frame over 125 bytes…): sockweave
//!   names the rule (1002), tungstenite the size (1009).
//! - a control frame whose length takes the 16- or 64-bit form:
//!   sockweave fails (1002), tungstenite reads on.
//! - close code 1014 (Bad Gateway, in IANA's registry): sockweave takes
//!   it; tungstenite answers 1002.
//! - a close frame with both a code that may not be sent and a reason that
//!   is not UTF-8: sockweave names the code (1002), tungstenite the reason
//!   (1007).
//! - sockweave limits the fragments of one message (`max_fragments`);
//!   here that limit is above anything an input can carry.
//! - sockweave refuses a frame as soon as its header (or the UTF-8 of its
//!   text so far) is wrong; tungstenite waits for the whole frame. When
//!   the input ends inside such a frame, sockweave has failed and
//!   tungstenite only saw the end: allowed when, without that last
//!   partial frame, both agree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockweave::{BytesMut, Config, Connection, Event, Instant, Message};
use std::io::{self, Read, Write};
use tungstenite::protocol::{Role, WebSocketConfig};

/// The largest frame and message either server accepts.
const LIMIT: usize = 1 << 12;

#[derive(Debug, PartialEq, Eq)]
enum End {
    /// The peer's close frame was taken; the code we answer with.
    Closed(Option<u16>),
    /// We failed the connection: the close code's class.
    Failed(u16),
    /// The input ended without a close frame.
    Eof,
}

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    /// (text?, payload) of each message delivered, in order.
    messages: Vec<(bool, Vec<u8>)>,
    end: End,
}

fuzz_target!(|data: &[u8]| {
    let ours = sockweave_server(data);
    let theirs = tungstenite_server(data);
    if std::env::var_os("SHOW").is_some() {
        eprintln!("sockweave {ours:?}\ntungstenite {theirs:?}");
    }
    if let Some(cut) = extended_control_length(data) {
        // sockweave refuses a control frame whose length takes the 16- or
        // 64-bit form (a control payload fits in 7 bits, and §5.2 wants
        // the minimal form); tungstenite reads the length and goes on.
        // Up to that frame both must agree, and sockweave fail there.
        let before = tungstenite_server(&data[..cut]);
        if ours.end == End::Failed(1002)
            && before.end == End::Eof
            && ours.messages == before.messages
            && sockweave_server(&data[..cut]) == before
        {
            return;
        }
    }
    if ours.messages == theirs.messages
        && matches!((&ours.end, &theirs.end), (End::Failed(_), End::Eof))
    {
        // sockweave judges a frame by its header and its text as it
        // arrives; tungstenite waits for the whole frame. When the input
        // ends inside the frame sockweave refused, tungstenite never saw
        // it whole: without that last piece both must agree.
        let whole = whole_frames(data);
        assert!(
            whole < data.len(),
            "ours failed, theirs ended: {ours:?} {theirs:?}"
        );
        assert_eq!(
            sockweave_server(&data[..whole]),
            tungstenite_server(&data[..whole])
        );
        return;
    }
    if ours.messages == theirs.messages
        && ours.end == End::Failed(1002)
        && theirs.end == End::Failed(1007)
        && close_with_two_faults(data)
    {
        return;
    }
    if ours.messages == theirs.messages
        && ours.end == End::Failed(1002)
        && theirs.end == End::Failed(1009)
        && too_big_with_a_header_fault(data)
    {
        return;
    }
    if ours.messages == theirs.messages
        && ours.end == End::Closed(Some(1014))
        && theirs.end == End::Failed(1002)
    {
        // 1014 (Bad Gateway) is in IANA's registry; tungstenite's list
        // stops at 1013 and 1015.
        return;
    }
    assert_eq!(
        ours, theirs,
        "sockweave (left) and tungstenite (right) differ"
    );
});

/// How many bytes of `data` are whole frames (client frames: the mask
/// bit decides whether a key follows).
fn whole_frames(data: &[u8]) -> usize {
    frames(data).last().map_or(0, |frame| frame.end)
}

/// A frame header at the start of `rest`, as written (no rule applied):
/// the first two bytes, the declared length, and where the payload
/// starts. `None` while the header is incomplete.
struct Header {
    first: u8,
    second: u8,
    len: u64,
    payload_at: usize,
}

fn header(rest: &[u8]) -> Option<Header> {
    let [first, second, ..] = *rest else {
        return None;
    };
    let (ext, len) = match second & 0x7f {
        126 if rest.len() >= 4 => (2, u64::from(u16::from_be_bytes([rest[2], rest[3]]))),
        127 if rest.len() >= 10 => (8, u64::from_be_bytes(rest[2..10].try_into().unwrap())),
        126 | 127 => return None,
        n => (0, u64::from(n)),
    };
    let key = if second & 0x80 != 0 { 4 } else { 0 };
    Some(Header {
        first,
        second,
        len,
        payload_at: 2 + ext + key,
    })
}

/// Each header in `data` with where it starts, walking frame by frame;
/// the walk stops at the first header whose frame `data` does not hold
/// whole (that header is still given).
fn headers(data: &[u8]) -> impl Iterator<Item = (usize, Header)> + '_ {
    let mut at = Some(0);
    std::iter::from_fn(move || {
        let start = at.take()?;
        let found = header(&data[start..])?;
        let end = (start as u64)
            .checked_add(found.payload_at as u64)
            .and_then(|e| e.checked_add(found.len))
            .filter(|&e| e <= data.len() as u64);
        at = end.map(|e| e as usize);
        Some((start, found))
    })
}

/// A whole frame of the input: its opcode, its unmasked payload, and
/// where it ends.
struct Frame {
    opcode: u8,
    payload: Vec<u8>,
    end: usize,
}

/// The whole frames at the start of `data`.
fn frames(data: &[u8]) -> Vec<Frame> {
    headers(data)
        .filter_map(|(start, h)| {
            let from = start + h.payload_at;
            let end = (from as u64).checked_add(h.len)?;
            if end > data.len() as u64 {
                return None;
            }
            let key = &data[from - if h.second & 0x80 != 0 { 4 } else { 0 }..from];
            let payload = data[from..end as usize]
                .iter()
                .enumerate()
                .map(|(i, b)| if key.is_empty() { *b } else { b ^ key[i % 4] })
                .collect();
            Some(Frame {
                opcode: h.first & 0x0f,
                payload,
                end: end as usize,
            })
        })
        .collect()
}

/// Whether the first frame that declares more than [`LIMIT`] bytes also
/// breaks a header rule (unmasked, reserved bits or opcode, a control
/// frame over 125 bytes or fragmented): two faults, and sockweave names
/// the rule (1002), tungstenite the size (1009).
fn too_big_with_a_header_fault(data: &[u8]) -> bool {
    let Some((_, h)) = headers(data).find(|(_, h)| h.len > LIMIT as u64) else {
        return false;
    };
    let opcode = h.first & 0x0f;
    let control = opcode >= 8;
    h.second & 0x80 == 0
        || h.len >> 63 == 1
        || h.first & 0x70 != 0
        || matches!(opcode, 3..=7 | 11..=15)
        || (control && (h.len > 125 || h.first & 0x80 == 0))
}

/// Where the first control frame that gives its length in the 16- or
/// 64-bit form starts, walking the frames from the start (its header may
/// be cut off: the first two bytes say it).
fn extended_control_length(data: &[u8]) -> Option<usize> {
    let ends: Vec<usize> = frames(data).iter().map(|f| f.end).collect();
    std::iter::once(0).chain(ends).find(|&start| {
        matches!(data[start..], [first, second, ..] if first & 0x08 != 0 && second & 0x7f >= 126)
    })
}

/// The code of the first close frame, if it has one.
fn peer_close_code(data: &[u8]) -> Option<u16> {
    let close = frames(data).into_iter().find(|f| f.opcode == 8)?;
    let [high, low, ..] = close.payload[..] else {
        return None;
    };
    Some(u16::from_be_bytes([high, low]))
}

/// Whether the first close frame carries a code that may not be sent and
/// a reason that is not UTF-8: two faults, and each server names the one
/// it checks first (sockweave the code, 1002; tungstenite the reason,
/// 1007).
fn close_with_two_faults(data: &[u8]) -> bool {
    let Some(close) = frames(data).into_iter().find(|f| f.opcode == 8) else {
        return false;
    };
    let [high, low, reason @ ..] = &close.payload[..] else {
        return false;
    };
    let code = u16::from_be_bytes([*high, *low]);
    let allowed = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
    !allowed && std::str::from_utf8(reason).is_err()
}

fn sockweave_server(data: &[u8]) -> Outcome {
    let mut config = Config::default();
    config.max_frame_len = LIMIT as u64;
    config.max_message_len = LIMIT as u64;
    config.max_fragments = u32::MAX;
    let mut conn = Connection::established_server(config, Instant::ZERO).unwrap();
    let mut input = BytesMut::from(data);
    let mut messages = Vec::new();
    let mut failure = None;
    let mut end = None;
    let mut eof_sent = false;
    loop {
        conn.receive(&mut input, Instant::ZERO);
        while let Some(event) = conn.poll_event_from(&mut input, Instant::ZERO) {
            match event {
                Event::Message(Message::Text(text)) => {
                    messages.push((true, text.as_str().as_bytes().to_vec()))
                }
                Event::Message(Message::Binary(bytes)) => messages.push((false, bytes.to_vec())),
                Event::Error(sockweave::Error::TransportClosed) => {}
                Event::Error(error) => failure = Some(error.close_code().0),
                Event::Closed(close) => {
                    end = Some(match failure {
                        Some(code) => End::Failed(code),
                        None if close.was_clean => {
                            End::Closed(Some(close.code.0).filter(|&c| c != 1005))
                        }
                        None => End::Eof,
                    })
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        conn.poll_transmit(&mut out);
        if let Some(end) = end.take() {
            return Outcome { messages, end };
        }
        if conn.needs_receive() {
            // Stopped at its event budget: the rest of the input waits.
            continue;
        }
        assert!(!eof_sent, "a connection whose input ended closes");
        // Every byte was given: what is left is an unfinished frame.
        conn.receive_eof(Instant::ZERO);
        eof_sent = true;
    }
}

/// Reads the input, then the end of it; takes every write.
struct Feed<'a>(&'a [u8]);

impl Read for Feed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Feed<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn tungstenite_server(data: &[u8]) -> Outcome {
    let config = WebSocketConfig::default()
        .max_frame_size(Some(LIMIT))
        .max_message_size(Some(LIMIT));
    let mut ws = tungstenite::WebSocket::from_raw_socket(Feed(data), Role::Server, Some(config));
    let mut messages = Vec::new();
    let mut closed = None;
    loop {
        let error = match ws.read() {
            Ok(tungstenite::Message::Text(text)) => {
                messages.push((true, text.as_bytes().to_vec()));
                continue;
            }
            Ok(tungstenite::Message::Binary(bytes)) => {
                messages.push((false, bytes.to_vec()));
                continue;
            }
            Ok(tungstenite::Message::Close(frame)) => {
                // The reply tungstenite queued: the peer's code, or 1002
                // for a code that may not be sent.
                closed = Some(frame.map(|f| u16::from(f.code)));
                continue;
            }
            Ok(_) => continue,
            Err(error) => error,
        };
        let end = match (error, closed) {
            (tungstenite::Error::ConnectionClosed, Some(code)) => match code {
                // Its answer to a code that may not be sent.
                Some(1002) if peer_close_code(data) != Some(1002) => End::Failed(1002),
                code => End::Closed(code),
            },
            (
                tungstenite::Error::Protocol(
                    tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
                ),
                None,
            ) => End::Eof,
            (tungstenite::Error::Utf8(_), _) => End::Failed(1007),
            (tungstenite::Error::Capacity(_), _) => End::Failed(1009),
            (tungstenite::Error::Protocol(_), _) => End::Failed(1002),
            (error, closed) => {
                panic!("tungstenite ended unexpectedly: {error:?} after close {closed:?}")
            }
        };
        return Outcome { messages, end };
    }
}
