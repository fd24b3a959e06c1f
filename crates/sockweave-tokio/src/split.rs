//! Two halves of one connection, for two tasks.

use crate::Error;
use crate::websocket::WebSocket;
use futures_core::Stream;
use futures_sink::Sink;
use sockweave::{CloseCode, CloseEvent, Event, Message, PreparedMessage};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use tokio::io::{AsyncRead, AsyncWrite};

/// The receiving half of a split [`WebSocket`]: also a `Stream` of messages.
pub struct ReadHalf<S> {
    half: Half<S>,
}

/// The sending half of a split [`WebSocket`]: also a `Sink` of messages.
pub struct WriteHalf<S> {
    half: Half<S>,
}

/// What each half holds: the connection, and a waker that wakes both
/// halves.
///
/// Both halves poll one socket and one timer, and each keeps a single
/// waker per direction: when the reader writes a pong while the writer
/// waits for room, the socket would remember only the reader, and the
/// writer would never hear that room came. So every poll goes in with a
/// waker that wakes both halves (each registers its own first); a half
/// woken for nothing polls and waits again.
struct Half<S> {
    shared: Arc<Mutex<WebSocket<S>>>,
    wakers: Arc<Wakers>,
    both: Waker,
    /// This half's slot in `wakers`.
    side: usize,
}

#[derive(Default)]
struct Wakers([Mutex<Option<Waker>>; 2]);

impl Wake for Wakers {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        for slot in &self.0 {
            if let Some(waker) = lock(slot).take() {
                waker.wake();
            }
        }
    }
}

impl<S> Half<S> {
    /// Polls the connection with a waker that wakes both halves.
    fn poll<T>(
        &self,
        cx: &mut Context<'_>,
        f: impl FnOnce(&mut WebSocket<S>, &mut Context<'_>) -> T,
    ) -> T {
        {
            let mut slot = lock(&self.wakers.0[self.side]);
            if !slot.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *slot = Some(cx.waker().clone());
            }
        }
        let mut both = Context::from_waker(&self.both);
        f(&mut lock(&self.shared), &mut both)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    /// Splits into halves for two tasks. The connection is shared under a
    /// mutex taken only inside a poll (never across an `.await`), so a
    /// task waiting to read never holds up a task that writes, and a
    /// wake-up for either half reaches both (see the crate docs).
    pub fn split(self) -> (ReadHalf<S>, WriteHalf<S>) {
        let shared = Arc::new(Mutex::new(self));
        let wakers = Arc::new(Wakers::default());
        let both = Waker::from(wakers.clone());
        let half = |side| Half {
            shared: shared.clone(),
            wakers: wakers.clone(),
            both: both.clone(),
            side,
        };
        (ReadHalf { half: half(0) }, WriteHalf { half: half(1) })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The core never panics mid-update, so a poisoned lock is still usable.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<S: AsyncRead + AsyncWrite + Unpin> ReadHalf<S> {
    /// The next whole message; `None` once the connection is closed.
    pub async fn recv(&mut self) -> Result<Option<Message>, Error> {
        std::future::poll_fn(|cx| self.half.poll(cx, |ws, cx| ws.poll_recv(cx))).await
    }

    /// The next event; `None` after [`Event::Closed`].
    pub async fn next_event(&mut self) -> Result<Option<Event>, Error> {
        std::future::poll_fn(|cx| self.half.poll(cx, |ws, cx| ws.poll_next_event(cx))).await
    }

    /// How the connection ended, once it has.
    pub fn close_event(&self) -> Option<CloseEvent> {
        lock(&self.half.shared).close_event().cloned()
    }

    /// Joins the halves again.
    pub fn unsplit(self, write: WriteHalf<S>) -> WebSocket<S> {
        drop(write);
        match Arc::try_unwrap(self.half.shared) {
            Ok(mutex) => mutex
                .into_inner()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
            Err(_) => unreachable!("both halves were given back"),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WriteHalf<S> {
    /// Queues `message` and writes it out.
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        let mut this = Pin::new(self);
        std::future::poll_fn(|cx| this.as_mut().poll_ready(cx)).await?;
        this.as_mut().start_send(message.into())?;
        std::future::poll_fn(|cx| this.as_mut().poll_flush(cx)).await
    }

    /// Sends a message prepared once for many connections (a broadcast):
    /// the same frame bytes, by reference; waits as [`WriteHalf::send`]
    /// does.
    pub async fn send_prepared(&mut self, prepared: &PreparedMessage) -> Result<(), Error> {
        let mut message = Some(prepared.message().clone());
        std::future::poll_fn(|cx| {
            self.half.poll(cx, |ws, cx| {
                ws.poll_send(cx, &mut message, |conn, _| conn.send_prepared(prepared))
            })
        })
        .await
    }

    /// Starts the closing handshake; the [`ReadHalf`] sees it finish.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        lock(&self.half.shared).close_now(code, reason)?;
        std::future::poll_fn(|cx| self.half.poll(cx, |ws, cx| ws.poll_write_out(cx))).await
    }

    /// Application bytes queued and not yet written.
    pub fn buffered_amount(&self) -> usize {
        lock(&self.half.shared).connection().buffered_amount()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for ReadHalf<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.half
            .poll(cx, |ws, cx| ws.poll_recv(cx))
            .map(Result::transpose)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WriteHalf<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.half.poll(cx, |ws, cx| Pin::new(ws).poll_ready(cx))
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        Pin::new(&mut *lock(&self.half.shared)).start_send(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.half.poll(cx, |ws, cx| Pin::new(ws).poll_flush(cx))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.half.poll(cx, |ws, cx| Pin::new(ws).poll_close(cx))
    }
}

impl<S> std::fmt::Debug for ReadHalf<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadHalf").finish_non_exhaustive()
    }
}

impl<S> std::fmt::Debug for WriteHalf<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteHalf").finish_non_exhaustive()
    }
}
