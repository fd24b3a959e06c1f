//! What the connection's test modules share: taking every event, every
//! byte to write, and delivering bytes in one read.

use super::Connection;
use crate::event::Event;
use crate::time::Instant;
use alloc::vec::Vec;
use bytes::BytesMut;

pub(super) const T0: Instant = Instant::ZERO;

/// Every event waiting, in order.
pub(super) fn events(conn: &mut Connection) -> Vec<Event> {
    core::iter::from_fn(|| conn.poll_event()).collect()
}

/// Every byte waiting to be written, as written.
pub(super) fn wire(conn: &mut Connection) -> Vec<u8> {
    let mut out = Vec::new();
    conn.poll_transmit(&mut out);
    out
}

/// `bytes` in one read, then every event.
pub(super) fn deliver(to: &mut Connection, bytes: &[u8]) -> Vec<Event> {
    to.receive(&mut BytesMut::from(bytes), T0);
    events(to)
}
