//! A room: connections that hear the same messages (a chat, a feed's
//! subscribers, a game's players), each message framed and compressed once
//! for all of them ([`PreparedMessage`]) and queued once for every member
//! (`fanout`), each member holding at most its outbox of it.

use crate::fanout::{Fanout, Take};
use crate::{Error, WebSocket};
use sockweave::{CloseCode, Connection, Message, PreparedMessage};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::io::{AsyncRead, AsyncWrite};

/// What a room does when a member's outbox is full (it reads slower than
/// the room talks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Laggard {
    /// The member misses its oldest message not taken, so it keeps the
    /// newest ([`Member::missed`] counts them): for feeds where only the
    /// latest matters.
    Skip,
    /// The member leaves the room: [`Member::next`] returns what was
    /// already in its outbox, then `None`, and its task closes the
    /// connection (1008 "too slow", say). Nobody silently misses a
    /// message: for chats.
    Drop,
}

/// Members and a broadcast to all of them. Cheap to clone (one room,
/// shared); no global state: make as many rooms as you have topics.
///
/// Each member holds at most `outbox` messages it has not taken, and a
/// message is one allocation and one place in the room's queue however
/// many members hold it; a member costs the room a few words. The
/// connection's own queue stays bounded by `Config::max_queued`.
///
/// ```no_run
/// use sockweave_tokio::{CloseCode, Room, Laggard, WebSocket};
/// # async fn member(mut ws: WebSocket<tokio::net::TcpStream>, room: Room) {
/// let mut member = room.join(ws.connection());
/// loop {
///     tokio::select! {
///         // Both are cancel-safe.
///         received = ws.recv() => match received {
///             Ok(Some(message)) => { room.broadcast(message); }
///             _ => break,
///         },
///         next = member.next() => match next {
///             Some(prepared) => {
///                 if ws.send_prepared(&prepared).await.is_err() { break }
///             }
///             None => {
///                 let _ = ws.close(CloseCode::POLICY_VIOLATION, "too slow").await;
///                 while let Ok(Some(_)) = ws.recv().await {}
///                 break;
///             }
///         },
///     }
/// }
/// # }
/// ```
#[derive(Clone)]
pub struct Room {
    fanout: Arc<Mutex<Fanout>>,
    outbox: usize,
    laggard: Laggard,
}

impl Room {
    /// A room whose members each hold up to `outbox` messages not yet
    /// taken (at least 1), and what happens to one whose outbox is full.
    pub fn new(outbox: usize, laggard: Laggard) -> Self {
        Self {
            fanout: Arc::new(Mutex::new(Fanout::new())),
            outbox: outbox.max(1),
            laggard,
        }
    }

    /// Adds a member for `conn`, whose permessage-deflate group (if any)
    /// the room compresses for. It hears what is published from now on.
    /// Dropping the [`Member`] leaves the room.
    pub fn join(&self, conn: &Connection) -> Member {
        let id = self.lock().join(conn.deflate_group());
        Member {
            id,
            room: self.clone(),
        }
    }

    /// Sends `message` to every member: framed once, and compressed once
    /// per permessage-deflate group among the members. Returns how many
    /// members it was queued for (a full outbox is [`Laggard`]'s case).
    pub fn broadcast(&self, message: impl Into<Message>) -> usize {
        let mut prepared = PreparedMessage::new(message);
        let groups = self.lock().groups();
        // Compressing happens outside the lock: members keep joining,
        // leaving and taking messages meanwhile.
        for group in groups {
            prepared.compress_for(group);
        }
        self.publish(Arc::new(prepared))
    }

    /// Queues an already prepared message for every member (prepare it
    /// for the members' groups first, or those members compress for
    /// themselves). Returns how many members it was queued for.
    pub fn publish(&self, prepared: Arc<PreparedMessage>) -> usize {
        self.lock().publish(prepared, self.outbox, self.laggard)
    }

    /// What a chat member does, for the common case: every message `ws`
    /// receives goes to the room, and every message the room broadcasts
    /// goes out on `ws` (a burst in one write). Returns when the
    /// connection ends; a member dropped for falling behind
    /// ([`Laggard::Drop`]) is closed with 1008 "too slow" first. For other
    /// behaviour, write the loop yourself around [`Room::join`] (see the
    /// type's example).
    pub async fn chat<S>(&self, ws: &mut WebSocket<S>) -> Result<(), Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        self.chat_via(ws, |message| {
            self.broadcast(message);
            true
        })
        .await
    }

    /// [`Room::chat`], but what `ws` receives goes to `publish` instead of
    /// straight to the room: to a broker (Redis pub/sub, NATS…) that
    /// brings it back to this room on every server, say. `publish`
    /// returns whether it took the message; when it cannot (its queue to
    /// the broker is full), the connection is closed with 1013 "try again
    /// later" rather than the message dropped unsaid.
    pub async fn chat_via<S>(
        &self,
        ws: &mut WebSocket<S>,
        mut publish: impl FnMut(Message) -> bool,
    ) -> Result<(), Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut member = self.join(ws.connection());
        loop {
            tokio::select! {
                // Both are cancel-safe: a message half-read stays buffered.
                received = ws.recv() => match received? {
                    Some(message) => {
                        if !publish(message) {
                            drop(member);
                            return close_and_drain(ws, CloseCode::from(1013), "try again later").await;
                        }
                    }
                    None => return Ok(()),
                },
                next = member.next() => match next {
                    Some(prepared) => {
                        ws.feed_prepared(&prepared).await?;
                        while let Some(more) = member.try_next() {
                            ws.feed_prepared(&more).await?;
                        }
                        ws.flush().await?;
                    }
                    None => {
                        drop(member);
                        return close_and_drain(ws, CloseCode::POLICY_VIOLATION, "too slow").await;
                    }
                },
            }
        }
    }

    /// How many members the room has (not counting those dropped for
    /// falling behind).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the room has no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Fanout> {
        // Nothing in the fan-out panics halfway through an update.
        self.fanout
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl std::fmt::Debug for Room {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Room")
            .field("members", &self.len())
            .field("outbox", &self.outbox)
            .field("laggard", &self.laggard)
            .finish()
    }
}

/// Closes `ws` with `code` and reads until the peer's reply (messages on
/// the way are not taken: the member left).
async fn close_and_drain<S>(
    ws: &mut WebSocket<S>,
    code: CloseCode,
    reason: &str,
) -> Result<(), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ws.close(code, reason).await?;
    while ws.recv().await?.is_some() {}
    Ok(())
}

/// One connection's place in a [`Room`]: the messages broadcast to it, in
/// order. Leaves the room when dropped.
pub struct Member {
    id: u64,
    room: Room,
}

impl Member {
    /// The next message broadcast to this member; `None` once the room
    /// dropped it for falling behind ([`Laggard::Drop`]), after the
    /// messages already in its outbox. Cancel-safe.
    pub async fn next(&mut self) -> Option<Arc<PreparedMessage>> {
        std::future::poll_fn(|cx| self.room.lock().poll_take(self.id, cx)).await
    }

    /// The next message if one waits, without waiting: drain these after
    /// [`Member::next`] to send a burst in one write
    /// ([`crate::WebSocket::feed_prepared`], then `flush`).
    pub fn try_next(&mut self) -> Option<Arc<PreparedMessage>> {
        match self.room.lock().take(self.id, None) {
            Take::Message(message) => Some(message),
            Take::Dropped | Take::Empty => None,
        }
    }

    /// Messages this member missed because its outbox was full
    /// ([`Laggard::Skip`]).
    pub fn missed(&self) -> u64 {
        self.room.lock().missed(self.id)
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.room.lock().leave(self.id);
    }
}

impl std::fmt::Debug for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Member")
            .field("id", &self.id)
            .field("missed", &self.missed())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sockweave::{Config, Instant};

    fn conn() -> Connection {
        Connection::established_server(Config::default(), Instant::ZERO).unwrap()
    }

    #[tokio::test]
    async fn every_member_gets_the_same_prepared_message() {
        let room = Room::new(4, Laggard::Drop);
        let (a, b) = (conn(), conn());
        let (mut ma, mut mb) = (room.join(&a), room.join(&b));
        assert_eq!(room.broadcast("hello"), 2);
        let (pa, pb) = (ma.next().await.unwrap(), mb.next().await.unwrap());
        assert!(Arc::ptr_eq(&pa, &pb), "one message for everyone");
        assert_eq!(pa.message(), &Message::from("hello"));
        drop(mb);
        assert_eq!(room.len(), 1, "a dropped member left");
    }

    #[tokio::test]
    async fn a_message_is_let_go_once_every_member_took_it_or_left() {
        let room = Room::new(8, Laggard::Skip);
        let (mut a, b) = (room.join(&conn()), room.join(&conn()));
        let message = Arc::new(PreparedMessage::new("once"));
        assert_eq!(room.publish(message.clone()), 2);
        assert_eq!(Arc::strong_count(&message), 2, "queued once for both");
        let taken = a.try_next().unwrap();
        assert_eq!(Arc::strong_count(&message), 3, "b has yet to take it");
        drop(b);
        assert_eq!(Arc::strong_count(&message), 2, "nobody left to take it");
        drop(taken);
        let late = room.join(&conn());
        assert_eq!(room.len(), 2);
        assert_eq!(room.publish(Arc::new(PreparedMessage::new("next"))), 2);
        drop((a, late));
        assert!(room.is_empty());
    }

    #[tokio::test]
    async fn a_waiting_member_is_woken_by_a_broadcast() {
        let room = Room::new(4, Laggard::Drop);
        let mut member = room.join(&conn());
        let waiting = tokio::spawn(async move { member.next().await });
        tokio::task::yield_now().await;
        room.broadcast("wake");
        let heard = tokio::time::timeout(std::time::Duration::from_secs(5), waiting).await;
        assert_eq!(
            heard.unwrap().unwrap().unwrap().message(),
            &Message::from("wake")
        );
    }

    #[tokio::test]
    async fn a_full_outbox_skips_or_drops_as_the_room_says() {
        let skip = Room::new(2, Laggard::Skip);
        let mut member = skip.join(&conn());
        for i in 0..5 {
            skip.broadcast(format!("{i}"));
        }
        assert_eq!(member.missed(), 3);
        assert_eq!(member.try_next().unwrap().message(), &Message::from("3"));
        assert_eq!(member.try_next().unwrap().message(), &Message::from("4"));
        assert!(member.try_next().is_none());
        assert_eq!(skip.len(), 1);

        let drop_room = Room::new(2, Laggard::Drop);
        let mut slow = drop_room.join(&conn());
        let mut fast = drop_room.join(&conn());
        for i in 0..3 {
            drop_room.broadcast(format!("{i}"));
            fast.next().await.unwrap();
        }
        assert_eq!(drop_room.len(), 1, "the slow member was dropped");
        assert!(slow.next().await.is_some());
        assert!(slow.next().await.is_some());
        assert!(slow.next().await.is_none(), "then it hears it was dropped");
    }
}
