//! Handing the core's outbound queue to a stream, the same way in every
//! adapter.
//!
//! Small frames share one contiguous buffer in the queue, so most writes
//! are a single run of bytes: those go out with a plain `write` (send(2)),
//! which costs the kernel less than writev(2) of one element. Larger
//! payloads are queued by reference beside their headers; those go out
//! vectored, up to [`WRITE_SLICES`] pieces at a time, without a copy.

use sockweave::Connection;
use std::io::{self, ErrorKind, IoSlice, Write};

/// The most pieces of the outbound queue one write hands the kernel.
pub const WRITE_SLICES: usize = 8;

/// The front of `conn`'s outbound queue as I/O slices (no allocation),
/// and how many of them are filled.
pub fn queued_slices(conn: &Connection) -> ([IoSlice<'_>; WRITE_SLICES], usize) {
    let mut slices = [IoSlice::new(&[]); WRITE_SLICES];
    let mut count = 0;
    for (slot, bytes) in slices.iter_mut().zip(conn.transmit()) {
        *slot = IoSlice::new(bytes);
        count += 1;
    }
    (slices, count)
}

/// One write of queued bytes to `stream`, reported to the core with
/// [`Connection::advance_transmit`]; returns how many bytes it took.
/// A write of nothing while bytes were queued is [`ErrorKind::WriteZero`].
pub fn write_queued(conn: &mut Connection, stream: &mut impl Write) -> io::Result<usize> {
    let (slices, count) = queued_slices(conn);
    let n = match count {
        0 => return Ok(0),
        1 => stream.write(&slices[0])?,
        _ => stream.write_vectored(&slices[..count])?,
    };
    if n == 0 {
        return Err(ErrorKind::WriteZero.into());
    }
    conn.advance_transmit(n);
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sockweave::{Config, Instant, Message};

    /// Counts plain and vectored writes.
    #[derive(Default)]
    struct Recorder {
        bytes: Vec<u8>,
        plain: usize,
        vectored: usize,
    }

    impl Write for Recorder {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.plain += 1;
            self.bytes.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            self.vectored += 1;
            bufs.iter().for_each(|b| self.bytes.extend_from_slice(b));
            Ok(bufs.iter().map(|b| b.len()).sum())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn small_frames_go_out_in_one_plain_write_large_ones_vectored() {
        let mut conn = Connection::established_server(Config::default(), Instant::ZERO).unwrap();
        conn.send(Message::from("hello")).unwrap();
        conn.send(Message::from("again")).unwrap();
        let mut out = Recorder::default();
        while conn.wants_write() {
            write_queued(&mut conn, &mut out).unwrap();
        }
        assert_eq!((out.plain, out.vectored), (1, 0));
        assert_eq!(out.bytes, b"\x81\x05hello\x81\x05again");

        let large = vec![7u8; 64 << 10];
        conn.send(Message::Binary(large.clone().into())).unwrap();
        let mut out = Recorder::default();
        while conn.wants_write() {
            write_queued(&mut conn, &mut out).unwrap();
        }
        assert_eq!((out.plain, out.vectored), (0, 1));
        // A 10-byte header (the length takes 8), then the payload.
        assert_eq!(out.bytes[..2], [0x82, 127]);
        assert!(
            out.bytes[10..] == large[..],
            "the payload follows its header"
        );
        assert_eq!(write_queued(&mut conn, &mut out).unwrap(), 0);
    }
}
