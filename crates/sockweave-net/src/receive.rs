//! Where a readiness adapter (tokio, mio; std reads into a buffer it
//! keeps) puts what it reads, and how a connection's input buffer is
//! sized as a frame arrives.
//!
//! Reads land in the thread's receive buffer ([`take_receive_buffer`]),
//! one per thread and shared by its connections, so a connection waiting
//! for data holds no buffer of its own. [`keep_read`] then copies the
//! bytes to the connection, or, when the read is one large frame (or its
//! start) arriving on an empty input, hands the buffer itself over: the
//! frame is not copied, and the thread makes a new buffer at its next read.
//!
//! The connection's buffer grows as bytes arrive, never from a declared
//! length alone: it is made at most twice as large as what came, so a
//! 14-byte header cannot make a host reserve 16 MiB. Within that, it is
//! made as large as the frame it receives ([`Connection::frame_end`]): a
//! frame read in several pieces then lives in one allocation, or a few,
//! instead of being regrown, and copied, at every read (a 64 KiB message
//! was copied twice more than it needed to be, a 1 MiB one four times).

use core::cell::Cell;
use sockweave::{BytesMut, Connection};

/// The capacity of a thread's receive buffer: 64 KiB and a page, so a
/// 64 KiB message and its header fit one read.
pub const RECEIVE_LEN: usize = (64 << 10) + 4096;

std::thread_local! {
    static RECEIVE: Cell<BytesMut> = Cell::new(BytesMut::new());
}

/// Takes the thread's receive buffer, with [`RECEIVE_LEN`] of capacity
/// (made on first use, and again after one was handed over). Its length
/// and contents are as the last read left them: a host that reads into
/// initialised memory keeps it at full length, one that reads into spare
/// capacity clears it. Give it back through [`keep_read`] or
/// [`give_back`]. A read nested inside another on the same thread (a
/// stream that is itself carried by a WebSocket) finds none there and
/// makes its own.
pub fn take_receive_buffer() -> BytesMut {
    let buf = RECEIVE.take();
    if buf.capacity() < RECEIVE_LEN {
        return BytesMut::with_capacity(RECEIVE_LEN);
    }
    buf
}

/// Returns the thread's receive buffer after a read that brought nothing.
pub fn give_back(buf: BytesMut) {
    RECEIVE.set(buf);
}

/// Moves a read of `read` bytes, at the start of `buf` (the thread's
/// receive buffer), into `input`, the unprocessed bytes of `conn`. When
/// `input` is empty and the read is all one frame and at least half the
/// buffer, `buf` becomes `input` (no copy; `input` then holds at most
/// twice what came, as [`append_read`] allows); otherwise the bytes are
/// copied and `buf` goes back to the thread.
pub fn keep_read(conn: &Connection, input: &mut BytesMut, mut buf: BytesMut, read: usize) {
    let bytes = &buf[..read];
    if input.is_empty() && 2 * read >= buf.capacity() && conn.frame_end(0, bytes) >= read {
        buf.truncate(read);
        *input = buf;
        return;
    }
    append_read(conn, input, bytes);
    give_back(buf);
}

/// Appends `read` (a read's bytes, in a buffer the host reuses) to
/// `input`, the unprocessed bytes of `conn`, with room for the rest of
/// the frame they belong to.
pub fn append_read(conn: &Connection, input: &mut BytesMut, read: &[u8]) {
    let arrived = input.len() + read.len();
    let end = conn.frame_end(input.len(), read);
    let want = end.clamp(arrived, 2 * arrived);
    if input.capacity() == 0 {
        // An idle connection's: made afresh, without `reserve`'s growth
        // path (40% fewer instructions, once per message that arrives on
        // an idle connection).
        *input = BytesMut::with_capacity(want);
    } else if want > input.capacity() {
        input.reserve(want - input.len());
    }
    input.extend_from_slice(read);
}

/// Makes room in `input` for a read straight into it, when a large frame
/// is arriving: up to the frame's end (at most doubling the buffer), or
/// `chunk` when the frame's end is not known. Returns how many bytes to
/// read into it: the room up to the frame's end, or `chunk`.
pub fn reserve_read(conn: &Connection, input: &mut BytesMut, chunk: usize) -> usize {
    let len = input.len();
    let limit = match conn.frame_missing(len) {
        0 => chunk,
        missing => missing,
    };
    if input.capacity() - len < limit.min(chunk) {
        input.reserve(limit.min(len.max(chunk)));
    }
    (input.capacity() - len).min(limit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sockweave::{Config, Instant};

    fn server() -> Connection {
        Connection::established_server(Config::default(), Instant::ZERO).unwrap()
    }

    /// A masked binary frame header for `len` payload bytes (64-bit length).
    fn header(len: u64) -> Vec<u8> {
        let mut head = vec![0x82, 0x80 | 127];
        head.extend_from_slice(&len.to_be_bytes());
        head.extend_from_slice(&[0; 4]);
        head
    }

    #[test]
    fn a_frame_gets_its_room_once_but_never_more_than_twice_what_came() {
        let conn = server();
        let mut read = header(70_000);
        read.resize(64 << 10, 0);
        let mut input = BytesMut::new();
        append_read(&conn, &mut input, &read);
        assert_eq!(
            input.capacity(),
            70_014,
            "the whole frame, in one allocation"
        );

        let mut huge = header(16 << 20);
        huge.resize(1000, 0);
        let mut input = BytesMut::new();
        append_read(&conn, &mut input, &huge);
        assert_eq!(
            input.capacity(),
            2000,
            "a declared length alone reserves nothing"
        );
    }

    #[test]
    fn reading_into_the_buffer_stops_at_the_frame_end() {
        let mut conn = server();
        let mut bytes = header(100_000);
        bytes.resize(80_014, 0);
        let mut input = BytesMut::from(&bytes[..]);
        conn.receive(&mut input, Instant::ZERO);
        assert_eq!(input.len(), 80_000, "the payload so far, in place");
        let room = reserve_read(&conn, &mut input, 64 << 10);
        assert_eq!(room, 20_000);
        assert!(input.capacity() - input.len() >= 20_000);
    }

    /// A read of `bytes` as the thread's receive buffer would hold it.
    fn read_of(bytes: &[u8]) -> BytesMut {
        let mut buf = take_receive_buffer();
        buf.clear();
        buf.extend_from_slice(bytes);
        buf
    }

    #[test]
    fn a_read_that_is_one_large_frame_becomes_the_input_uncopied() {
        let mut conn = server();
        let mut frame = header(40_000);
        frame.resize(40_014, 7);
        let buf = read_of(&frame);
        let at = buf.as_ptr();
        let mut input = BytesMut::new();
        keep_read(&conn, &mut input, buf, frame.len());
        assert_eq!(input.as_ptr(), at, "handed over, not copied");
        assert!(
            input.capacity() <= 2 * frame.len(),
            "at most twice what came"
        );

        conn.receive(&mut input, Instant::ZERO);
        let Some(sockweave::Event::Message(message)) = conn.poll_event() else {
            panic!("the message");
        };
        assert_eq!(message.as_bytes().len(), 40_000);
        assert_eq!(
            message.as_bytes().as_ptr(),
            at.wrapping_add(14),
            "the payload is the read"
        );
        let next = take_receive_buffer();
        assert!(next.capacity() >= RECEIVE_LEN, "the thread makes a new one");
        assert_ne!(next.as_ptr(), at);
    }

    #[test]
    fn small_reads_several_frames_or_a_waiting_input_are_copied() {
        let conn = server();
        let mut small = header(100);
        small.resize(114, 0);
        let mut big = header(40_000);
        big.resize(40_014, 0);
        let mut two = header(19_986);
        two.resize(20_000, 0);
        two.extend_from_within(..);
        for (name, bytes, waiting) in [
            ("a small frame", &small, 0),
            ("two frames in one read", &two, 0),
            ("a large read after bytes already waiting", &big, 3),
        ] {
            let mut input = BytesMut::from(&vec![0x82; waiting][..]);
            let buf = read_of(bytes);
            let at = buf.as_ptr();
            keep_read(&conn, &mut input, buf, bytes.len());
            assert_ne!(input.as_ptr(), at, "{name}: copied");
            assert_eq!(input.len(), waiting + bytes.len());
            assert_eq!(
                take_receive_buffer().as_ptr(),
                at,
                "{name}: the buffer went back to the thread"
            );
        }
    }
}
