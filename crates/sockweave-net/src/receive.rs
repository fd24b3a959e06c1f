//! Sizing a connection's input buffer as a frame arrives, the same way in
//! the readiness adapters (tokio, mio; std reads into a buffer it keeps).
//!
//! The buffer grows as bytes arrive, never from a declared length alone:
//! it is made at most twice as large as what came, so a 14-byte header
//! cannot make a host reserve 16 MiB. Within that, it is made as large as
//! the frame it receives ([`Connection::frame_end`]): a frame read in
//! several pieces then lives in one allocation, or a few, instead of being
//! regrown, and copied, at every read (a 64 KiB message was copied twice
//! more than it needed to be, a 1 MiB one four times).

use sockweave::{BytesMut, Connection};

/// Appends `read` (a read's bytes, in a buffer the host reuses) to
/// `input`, the unprocessed bytes of `conn`, with room for the rest of
/// the frame they belong to.
pub fn append_read(conn: &Connection, input: &mut BytesMut, read: &[u8]) {
    let arrived = input.len() + read.len();
    let end = conn.frame_end(input.len(), read);
    let want = end.clamp(arrived, 2 * arrived);
    if want > input.capacity() {
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
}
