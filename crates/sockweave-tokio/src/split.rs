//! Two halves of one connection, for two tasks.

use crate::Error;
use crate::websocket::WebSocket;
use futures_core::Stream;
use futures_sink::Sink;
use sockweave::{CloseCode, CloseEvent, Event, Message};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite};

/// The receiving half of a split [`WebSocket`]: also a `Stream` of messages.
pub struct ReadHalf<S> {
    shared: Arc<Mutex<WebSocket<S>>>,
}

/// The sending half of a split [`WebSocket`]: also a `Sink` of messages.
pub struct WriteHalf<S> {
    shared: Arc<Mutex<WebSocket<S>>>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    /// Splits into halves for two tasks. The connection is shared under a
    /// mutex taken only inside a poll (never across an `.await`), so a
    /// task waiting to read never holds up a task that writes.
    pub fn split(self) -> (ReadHalf<S>, WriteHalf<S>) {
        let shared = Arc::new(Mutex::new(self));
        (
            ReadHalf {
                shared: shared.clone(),
            },
            WriteHalf { shared },
        )
    }
}

fn lock<S>(shared: &Mutex<WebSocket<S>>) -> MutexGuard<'_, WebSocket<S>> {
    // The core never panics mid-update, so a poisoned lock is still usable.
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<S: AsyncRead + AsyncWrite + Unpin> ReadHalf<S> {
    /// The next whole message; `None` once the connection is closed.
    pub async fn recv(&mut self) -> Result<Option<Message>, Error> {
        std::future::poll_fn(|cx| lock(&self.shared).poll_recv(cx)).await
    }

    /// The next event; `None` after [`Event::Closed`].
    pub async fn next_event(&mut self) -> Result<Option<Event>, Error> {
        std::future::poll_fn(|cx| lock(&self.shared).poll_next_event(cx)).await
    }

    /// How the connection ended, once it has.
    pub fn close_event(&self) -> Option<CloseEvent> {
        lock(&self.shared).close_event().cloned()
    }

    /// Joins the halves again.
    pub fn unsplit(self, write: WriteHalf<S>) -> WebSocket<S> {
        drop(write);
        match Arc::try_unwrap(self.shared) {
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

    /// Starts the closing handshake; the [`ReadHalf`] sees it finish.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        lock(&self.shared).close_now(code, reason)?;
        std::future::poll_fn(|cx| lock(&self.shared).poll_write_out(cx)).await
    }

    /// Application bytes queued and not yet written.
    pub fn buffered_amount(&self) -> usize {
        lock(&self.shared).connection().buffered_amount()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for ReadHalf<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        lock(&self.shared).poll_recv(cx).map(Result::transpose)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WriteHalf<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Pin::new(&mut *lock(&self.shared)).poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        Pin::new(&mut *lock(&self.shared)).start_send(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Pin::new(&mut *lock(&self.shared)).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Pin::new(&mut *lock(&self.shared)).poll_close(cx)
    }
}
