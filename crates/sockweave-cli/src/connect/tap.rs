//! `-v`: the opening handshake's two HTTP heads as they went over the
//! wire, copied to stderr (the server's escaped). Once both have passed,
//! the tap only forwards.

use crate::terminal::escape;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A head is at most this long here (the core's own limits are lower).
const MAX_HEAD: usize = 64 << 10;

/// A stream that shows the first head written (`> `) and the first head
/// read (`< `) on stderr when `verbose`.
pub(crate) struct Tap<S> {
    inner: S,
    sent: Option<Vec<u8>>,
    received: Option<Vec<u8>>,
}

impl<S> Tap<S> {
    pub(crate) fn new(inner: S, verbose: bool) -> Self {
        Self {
            inner,
            sent: verbose.then(Vec::new),
            received: verbose.then(Vec::new),
        }
    }
}

/// Adds `bytes` to a head being copied; prints it with `prefix` on each
/// line once it is whole (or too long to be one), and stops copying.
fn copy(head: &mut Option<Vec<u8>>, bytes: &[u8], prefix: &str) {
    let Some(buf) = head else { return };
    buf.extend_from_slice(bytes);
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n");
    if end.is_none() && buf.len() < MAX_HEAD {
        return;
    }
    let text = String::from_utf8_lossy(&buf[..end.unwrap_or(buf.len())]).into_owned();
    for line in text.split("\r\n") {
        eprintln!("{prefix}{}", escape(line));
    }
    *head = None;
}

impl<S: AsyncRead + Unpin> AsyncRead for Tap<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if self.received.is_some() {
            copy(&mut self.received, &buf.filled()[before..], "< ");
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tap<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let (Some(_), Poll::Ready(Ok(n))) = (&self.sent, &polled) {
            let n = *n;
            copy(&mut self.sent, &buf[..n], "> ");
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let (Some(_), Poll::Ready(Ok(n))) = (&self.sent, &polled) {
            let mut left = *n;
            for slice in bufs {
                let take = left.min(slice.len());
                copy(&mut self.sent, &slice[..take], "> ");
                left -= take;
                if left == 0 {
                    break;
                }
            }
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
