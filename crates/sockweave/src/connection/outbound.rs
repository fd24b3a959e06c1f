//! The outbound queue: wire bytes waiting for the transport.
//!
//! Small frames are appended to one contiguous tail buffer, so many frames
//! leave in one write. A large payload the server sends unmasked is queued
//! as its own shared segment instead of being copied; a client's payload
//! is always copied, because masking it must not touch the caller's bytes.

use crate::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};
use crate::mask;
use alloc::collections::VecDeque;
use bytes::{Buf, Bytes, BytesMut};

/// Payloads at least this long are queued by reference (server role).
const SHARE_THRESHOLD: usize = 2048;
/// A fresh tail buffer has room for a few small frames at least.
const MIN_TAIL: usize = 256;

#[derive(Debug, Default)]
pub(super) struct Outbound {
    segments: VecDeque<Bytes>,
    tail: BytesMut,
    /// Wire offset of the end of everything queued so far.
    queued_end: u64,
    /// Wire offset of the end of everything taken by the transport.
    written: u64,
    /// Data frames not yet fully written, for `buffered_amount`.
    marks: VecDeque<Mark>,
    buffered: usize,
}

/// Where a data frame's payload lies on the wire, and the application
/// bytes it carries.
#[derive(Debug, Clone, Copy)]
struct Mark {
    payload_start: u64,
    end: u64,
    /// Application bytes, when they differ from the wire payload (an
    /// extension transformed it): counted as sent when the frame is.
    transformed: Option<usize>,
}

impl Outbound {
    /// Bytes queued and not yet written.
    pub(super) fn len(&self) -> usize {
        (self.queued_end - self.written) as usize
    }

    /// What the queue holds: the bytes to write, and a slot per data frame
    /// waiting (`buffered_amount`'s bookkeeping) and per shared payload.
    pub(super) fn cost(&self) -> usize {
        self.len() + self.marks.len() * size_of::<Mark>() + self.segments.len() * size_of::<Bytes>()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.queued_end == self.written
    }

    /// Application payload bytes queued and not yet written.
    pub(super) fn buffered(&self) -> usize {
        self.buffered
    }

    /// Wire offset of the end of the queue: a frame queued now ends here.
    pub(super) fn end(&self) -> u64 {
        self.queued_end
    }

    /// Wire offset up to which the transport has taken bytes.
    pub(super) fn written(&self) -> u64 {
        self.written
    }

    /// Queues raw bytes (an HTTP head).
    pub(super) fn push_raw(&mut self, bytes: &[u8]) {
        self.tail.extend_from_slice(bytes);
        self.queued_end += bytes.len() as u64;
    }

    /// Queues one frame. `data` is the application bytes it carries,
    /// counted in `buffered_amount` until written (`None` for control
    /// frames); it differs from the payload's length when an extension
    /// transformed it.
    pub(super) fn push_frame(
        &mut self,
        opcode: OpCode,
        (fin, rsv): (bool, u8),
        payload: Bytes,
        mask: Option<[u8; 4]>,
        data: Option<usize>,
    ) {
        let payload_len = payload.len();
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask,
            payload_len: payload_len as u64,
        };
        let mut head = [0; MAX_HEADER_LEN];
        let head_len = header.encode(&mut head);
        let start = self.queued_end;
        let copied = if mask.is_some() || payload_len < SHARE_THRESHOLD {
            payload_len
        } else {
            0
        };
        self.make_room(head_len + copied);
        self.tail.extend_from_slice(&head[..head_len]);
        if let Some(key) = mask {
            let at = self.tail.len();
            self.tail.extend_from_slice(&payload);
            mask::apply(&mut self.tail[at..], key, 0);
        } else if payload_len >= SHARE_THRESHOLD {
            let staged = self.tail.split().freeze();
            self.segments.push_back(staged);
            self.segments.push_back(payload);
        } else {
            self.tail.extend_from_slice(&payload);
        }
        let end = start + (head_len + payload_len) as u64;
        self.queued_end = end;
        self.mark(start + head_len as u64, end, data);
    }

    /// Room for `n` more bytes in the tail, at least [`MIN_TAIL`]. A tail
    /// with no buffer (every idle connection's, and the common case: a
    /// write drains the queue and gives it back) is made afresh: 40% fewer
    /// instructions than `reserve`'s growth path, once per message
    /// (callgrind, mio echo).
    fn make_room(&mut self, n: usize) {
        if self.tail.capacity() == 0 {
            self.tail = BytesMut::with_capacity(n.max(MIN_TAIL));
        } else {
            self.tail.reserve(n.max(MIN_TAIL));
        }
    }

    /// Queues a whole frame encoded elsewhere (a prepared message's, the
    /// same bytes for many connections): by reference, so a broadcast to
    /// an idle subscriber neither copies nor allocates; copied into the
    /// tail when small and anything else waits, so a burst leaves as one
    /// reference and one run of bytes. (By reference, each frame would be
    /// a slice of its own, and a write takes only so many: 16 messages of
    /// 16 B took two writes where one does, which halved a broadcast's
    /// rate.) `data` as for [`Outbound::push_frame`].
    pub(super) fn push_encoded(&mut self, frame: &Bytes, header_len: usize, data: usize) {
        let start = self.queued_end;
        let queued = !(self.tail.is_empty() && self.segments.is_empty());
        if frame.len() < SHARE_THRESHOLD && queued {
            self.make_room(frame.len());
            self.tail.extend_from_slice(frame);
        } else {
            if !self.tail.is_empty() {
                let staged = self.tail.split().freeze();
                self.segments.push_back(staged);
            }
            self.segments.push_back(frame.clone());
        }
        let end = start + frame.len() as u64;
        self.queued_end = end;
        self.mark(start + header_len as u64, end, Some(data));
    }

    /// Records a data frame's payload (`payload_start..end` on the wire)
    /// carrying `data` application bytes, for `buffered_amount`.
    fn mark(&mut self, payload_start: u64, end: u64, data: Option<usize>) {
        let payload_len = (end - payload_start) as usize;
        let transformed = match data {
            Some(amount) if amount == payload_len && amount > 0 => None,
            Some(amount) if amount != payload_len => Some(amount),
            _ => return,
        };
        self.marks.push_back(Mark {
            payload_start,
            end,
            transformed,
        });
        self.buffered += data.unwrap_or(0);
    }

    /// Drops everything queued, as if written: the connection was aborted.
    pub(super) fn discard(&mut self) {
        self.written = self.queued_end;
        self.segments.clear();
        self.tail = BytesMut::new();
        self.marks.clear();
        self.buffered = 0;
    }

    /// The queued bytes in order, as up to a few contiguous slices.
    pub(super) fn chunks(&self) -> impl Iterator<Item = &[u8]> {
        self.segments
            .iter()
            .map(|s| &s[..])
            .chain(core::iter::once(&self.tail[..]))
            .filter(|s| !s.is_empty())
    }

    /// Records that the transport took the first `n` queued bytes.
    pub(super) fn advance(&mut self, n: usize) {
        let n = n.min(self.len());
        let mut left = n;
        while left > 0 {
            match self.segments.front_mut() {
                Some(segment) if segment.len() <= left => {
                    left -= segment.len();
                    self.segments.pop_front();
                }
                Some(segment) => {
                    segment.advance(left);
                    left = 0;
                }
                None => {
                    self.tail.advance(left);
                    left = 0;
                }
            }
        }
        let before = self.written;
        self.written += n as u64;
        while let Some(mark) = self.marks.front().copied() {
            let from = before.max(mark.payload_start);
            let to = self.written.min(mark.end);
            match mark.transformed {
                None if to > from => self.buffered -= (to - from) as usize,
                Some(amount) if self.written >= mark.end => self.buffered -= amount,
                _ => {}
            }
            if self.written >= mark.end {
                self.marks.pop_front();
            } else {
                break;
            }
        }
        if self.is_empty() {
            // An idle connection holds no write buffer.
            self.tail = BytesMut::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn drain(out: &Outbound) -> Vec<u8> {
        out.chunks().flatten().copied().collect()
    }

    #[test]
    fn buffered_amount_counts_payload_bytes_as_they_leave() {
        let mut out = Outbound::default();
        out.push_frame(
            OpCode::Binary,
            (true, 0),
            Bytes::from_static(&[1; 10]),
            None,
            Some(10),
        );
        out.push_frame(
            OpCode::Pong,
            (true, 0),
            Bytes::from_static(b"p"),
            None,
            None,
        );
        assert_eq!((out.len(), out.buffered()), (15, 10));
        out.advance(1);
        assert_eq!(out.buffered(), 10, "header bytes are not application data");
        out.advance(5);
        assert_eq!(out.buffered(), 6);
        out.advance(100);
        assert_eq!((out.len(), out.buffered()), (0, 0));
    }

    #[test]
    fn large_server_payloads_are_shared_not_copied() {
        let mut out = Outbound::default();
        let big = Bytes::from(alloc::vec![7u8; 5000]);
        out.push_frame(OpCode::Binary, (true, 0), big.clone(), None, Some(5000));
        out.push_frame(
            OpCode::Text,
            (true, 0),
            Bytes::from_static(b"hi"),
            None,
            Some(2),
        );
        let chunks: Vec<&[u8]> = out.chunks().collect();
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[1].as_ptr(), big.as_ptr());
        let wire = drain(&out);
        assert_eq!(&wire[..4], b"\x82\x7e\x13\x88");
        assert_eq!(&wire[5004..], b"\x81\x02hi");
        for step in [3, 1000, 4000, 1, 100] {
            out.advance(step);
        }
        assert!(out.is_empty());
        assert_eq!(out.buffered(), 0);
    }

    #[test]
    fn a_burst_of_small_encoded_frames_leaves_as_one_reference_and_one_run() {
        let mut out = Outbound::default();
        let frame = Bytes::from_static(b"\x81\x03abc");
        out.push_encoded(&frame, 2, 3);
        let chunks: Vec<&[u8]> = out.chunks().collect();
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].as_ptr(), frame.as_ptr(), "alone: by reference");
        for _ in 0..15 {
            out.push_encoded(&frame, 2, 3);
        }
        assert_eq!(out.chunks().count(), 2, "the rest copied after it");
        assert_eq!(drain(&out), frame.repeat(16));
        assert_eq!(out.buffered(), 48);
        out.advance(5 * 16);
        assert!(out.is_empty());
        let big = Bytes::from(alloc::vec![0u8; SHARE_THRESHOLD + 4]);
        out.push_encoded(&frame, 2, 3);
        out.push_encoded(&big, 4, SHARE_THRESHOLD);
        out.push_encoded(&big, 4, SHARE_THRESHOLD);
        assert_eq!(out.chunks().count(), 3, "large frames stay by reference");
    }

    #[test]
    fn transformed_frames_count_their_application_bytes_until_written() {
        let mut out = Outbound::default();
        // 100 application bytes compressed to 7, with RSV1.
        out.push_frame(
            OpCode::Text,
            (true, 0b100),
            Bytes::from_static(&[0; 7]),
            None,
            Some(100),
        );
        assert_eq!(drain(&out)[0], 0xc1);
        assert_eq!(out.buffered(), 100);
        out.advance(5);
        assert_eq!(out.buffered(), 100);
        out.advance(4);
        assert_eq!(out.buffered(), 0);
    }

    #[test]
    fn client_frames_are_masked_in_the_queue() {
        let mut out = Outbound::default();
        out.push_frame(
            OpCode::Text,
            (true, 0),
            Bytes::from_static(b"Hello"),
            Some([0x37, 0xfa, 0x21, 0x3d]),
            Some(5),
        );
        assert_eq!(drain(&out), b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
    }
}
