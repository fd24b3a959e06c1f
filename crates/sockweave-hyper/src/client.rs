//! The client side: WebSockets over an HTTP/2 connection (RFC 8441), or
//! over HTTP/1.1 when the server does not offer them on HTTP/2.

use crate::Error;
use crate::translate::headers_of;
use bytes::Bytes;
use http_body_util::Empty;
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use sockweave::handshake::ClientRequest;
use sockweave::{BytesMut, Config, Connection, Instant};
use std::io;
use std::pin::Pin;
#[cfg(feature = "rustls")]
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// Any byte stream the client runs over: TCP, TLS, one HTTP/2 stream.
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// The WebSocket a client gets, over whichever transport was used.
pub type ClientWebSocket = sockweave_tokio::WebSocket<Box<dyn Io>>;

/// Which HTTP version carried the opening handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// An HTTP/1.1 upgrade: the WebSocket owns the TCP (or TLS) connection.
    Http11,
    /// An extended CONNECT: the WebSocket is one stream of an HTTP/2
    /// connection.
    Http2,
}

/// How [`connect`] reaches a server.
#[derive(Clone, Default)]
pub struct ClientOptions {
    /// For `ws://`: speak HTTP/2 without asking first (h2c with prior
    /// knowledge). Off by default, as in browsers: `ws://` is HTTP/1.1.
    /// `wss://` always offers `h2` and `http/1.1` by ALPN.
    pub http2_prior_knowledge: bool,
    /// The TLS configuration for `wss://` (its ALPN list is replaced);
    /// default roots otherwise (feature `webpki-roots` or `native-roots`).
    #[cfg(feature = "rustls")]
    pub tls: Option<Arc<sockweave_tokio::rustls::rustls::ClientConfig>>,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("http2_prior_knowledge", &self.http2_prior_knowledge)
            .finish_non_exhaustive()
    }
}

/// Opens a WebSocket to `request`: over HTTP/2 when the server's
/// connection is HTTP/2 (ALPN `h2`, or prior knowledge) and its SETTINGS
/// enabled the extended CONNECT, else over HTTP/1.1 on a new connection.
/// Says which it used.
pub async fn connect(
    request: &ClientRequest,
    config: Config,
    options: &ClientOptions,
) -> Result<(ClientWebSocket, Transport), Error> {
    let timeout = config.handshake_timeout;
    let opened = async {
        let (stream, h2) = dial(request, options, true).await?;
        if h2 {
            let client = Http2Client::handshake(stream, timeout).await?;
            if client.supports_websockets() {
                let ws = client.websocket(request, config).await?;
                return Ok((ws, Transport::Http2));
            }
            // The server speaks HTTP/2 but not WebSockets over it: do as
            // browsers do, a new connection for an HTTP/1.1 upgrade.
            drop(client);
            let (stream, _) = dial(request, options, false).await?;
            return http11(stream, request, config).await;
        }
        http11(stream, request, config).await
    };
    tokio::time::timeout(timeout, opened)
        .await
        .map_err(|_| Error::Failed(sockweave::Error::Timeout(sockweave::Timeout::Handshake)))?
}

async fn http11(
    stream: Box<dyn Io>,
    request: &ClientRequest,
    config: Config,
) -> Result<(ClientWebSocket, Transport), Error> {
    let ws = sockweave_tokio::client(stream, request, config).await?;
    Ok((ws, Transport::Http11))
}

/// Connects TCP (and TLS for `wss://`); whether HTTP/2 is to be spoken.
async fn dial(
    request: &ClientRequest,
    options: &ClientOptions,
    offer_h2: bool,
) -> Result<(Box<dyn Io>, bool), Error> {
    let tcp = TcpStream::connect((request.host.as_str(), request.port)).await?;
    tcp.set_nodelay(true)?;
    if !request.secure {
        return Ok((Box::new(tcp), offer_h2 && options.http2_prior_knowledge));
    }
    tls(tcp, request, options, offer_h2).await
}

#[cfg(feature = "rustls")]
async fn tls(
    tcp: TcpStream,
    request: &ClientRequest,
    options: &ClientOptions,
    offer_h2: bool,
) -> Result<(Box<dyn Io>, bool), Error> {
    use sockweave_tokio::rustls as ours;
    let base = ours::client_config_or_default(options.tls.as_ref()).map_err(Error::Tls)?;
    let mut config = (*base).clone();
    config.alpn_protocols = if offer_h2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    let name = ours::server_name(&request.host).map_err(Error::Tls)?;
    let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(ours::map_handshake_error)?;
    let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
    Ok((Box::new(stream), h2))
}

#[cfg(not(feature = "rustls"))]
async fn tls(
    _: TcpStream,
    _: &ClientRequest,
    _: &ClientOptions,
    _: bool,
) -> Result<(Box<dyn Io>, bool), Error> {
    Err(Error::Io(io::Error::new(
        io::ErrorKind::Unsupported,
        "wss:// needs the rustls feature of sockweave-hyper",
    )))
}

/// An HTTP/2 connection to a server, for as many WebSockets as it allows
/// streams. Cheap to clone: clones share the connection.
#[derive(Clone)]
pub struct Http2Client {
    send: http2::SendRequest<Empty<Bytes>>,
    extended_connect: bool,
}

impl std::fmt::Debug for Http2Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http2Client")
            .field("extended_connect", &self.extended_connect)
            .finish_non_exhaustive()
    }
}

impl Http2Client {
    /// Connects to `request`'s server and speaks HTTP/2: ALPN `h2` for
    /// `wss://`, prior knowledge for `ws://` (whatever `options` says).
    /// Fails if the server does not choose HTTP/2.
    pub async fn connect(
        request: &ClientRequest,
        options: &ClientOptions,
        timeout: Duration,
    ) -> Result<Self, Error> {
        let mut options = options.clone();
        options.http2_prior_knowledge = true;
        let (stream, h2) = dial(request, &options, true).await?;
        if !h2 {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::Unsupported,
                "the server did not choose HTTP/2",
            )));
        }
        Self::handshake(stream, timeout).await
    }

    /// Speaks HTTP/2 over `stream` (TLS with ALPN `h2`, or TCP with prior
    /// knowledge) and waits for the server's SETTINGS, at most `timeout`:
    /// whether the server enables the extended CONNECT is known only then
    /// (RFC 8441 §3). The connection is driven by a task of its own.
    pub async fn handshake(stream: Box<dyn Io>, timeout: Duration) -> Result<Self, Error> {
        let (acked, mut ack) = watch::channel(false);
        let io = TokioIo::new(SettingsWatch {
            inner: stream,
            skip: PREFACE_LEN,
            head: Vec::with_capacity(9),
            acked: Some(acked),
        });
        let (send, conn) = http2::handshake(TokioExecutor::new(), io)
            .await
            .map_err(|e| Error::Io(io::Error::other(e)))?;
        // hyper reads and writes on a task of its own; this one only takes
        // requests. h2 applies the server's SETTINGS as it queues their
        // acknowledgement, so once that has been written the setting is
        // known (RFC 8441 §3: not before).
        let waited = tokio::time::timeout(timeout, ack.wait_for(|acked| *acked)).await;
        match waited {
            Err(_) => {
                return Err(Error::Failed(sockweave::Error::Timeout(
                    sockweave::Timeout::Handshake,
                )));
            }
            Ok(Err(_)) => return Err(Error::Closed),
            Ok(Ok(_)) => {}
        }
        let extended_connect = conn.is_extended_connect_protocol_enabled();
        tokio::spawn(conn);
        Ok(Self {
            send,
            extended_connect,
        })
    }

    /// Whether the server's SETTINGS enabled the extended CONNECT
    /// (`SETTINGS_ENABLE_CONNECT_PROTOCOL = 1`).
    pub fn supports_websockets(&self) -> bool {
        self.extended_connect
    }

    /// Opens a WebSocket on a new stream: an extended CONNECT request
    /// built by the core, the answer checked by the core.
    pub async fn websocket(
        &self,
        request: &ClientRequest,
        config: Config,
    ) -> Result<ClientWebSocket, Error> {
        if !self.extended_connect {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::Unsupported,
                "the server's SETTINGS did not enable the extended CONNECT (RFC 8441)",
            )));
        }
        let (handshake, connect) = Connection::extended_connect(request, &config)?;
        let uri = format!("{}://{}{}", connect.scheme, connect.authority, connect.path);
        let mut http_request = http::Request::builder()
            .method(http::Method::CONNECT)
            .version(http::Version::HTTP_2)
            .uri(uri);
        for (name, value) in &connect.headers {
            http_request = http_request.header(name.as_str(), value.as_str());
        }
        let mut http_request = http_request
            .body(Empty::new())
            .map_err(|e| Error::Io(io::Error::other(e)))?;
        http_request
            .extensions_mut()
            .insert(hyper::ext::Protocol::from_static("websocket"));
        let mut send = self.send.clone();
        send.ready()
            .await
            .map_err(|e| Error::Io(io::Error::other(e)))?;
        let mut response = send
            .send_request(http_request)
            .await
            .map_err(|e| Error::Io(io::Error::other(e)))?;
        let conn = Connection::client_upgraded(
            &handshake,
            response.status().as_u16(),
            headers_of(response.headers()),
            config,
            |buf: &mut [u8]| rand::fill(buf),
            Instant::ZERO,
        )?;
        let upgraded = hyper::upgrade::on(&mut response)
            .await
            .map_err(|e| Error::Io(io::Error::other(e)))?;
        let stream: Box<dyn Io> = Box::new(TokioIo::new(upgraded));
        Ok(sockweave_tokio::WebSocket::from_parts(
            stream,
            conn,
            BytesMut::new(),
        ))
    }
}

/// The client connection preface (RFC 9113 §3.4) before the first frame.
const PREFACE_LEN: usize = 24;

/// A stream that notes when the client has written its acknowledgement of
/// the server's SETTINGS: a SETTINGS frame with the ACK flag.
struct SettingsWatch {
    inner: Box<dyn Io>,
    /// Bytes of the preface or of a frame's payload still to pass over.
    skip: usize,
    /// The header of the frame being written, as it goes out.
    head: Vec<u8>,
    /// Told once, then dropped.
    acked: Option<watch::Sender<bool>>,
}

impl SettingsWatch {
    /// Follows the frames in the first `n` bytes of `bufs`, just written.
    fn written(&mut self, bufs: &[&[u8]], mut n: usize) {
        for buf in bufs {
            if n == 0 || self.acked.is_none() {
                return;
            }
            let taken = buf.len().min(n);
            n -= taken;
            let mut data = &buf[..taken];
            while !data.is_empty() && self.acked.is_some() {
                if self.skip > 0 {
                    let k = self.skip.min(data.len());
                    self.skip -= k;
                    data = &data[k..];
                    continue;
                }
                let k = (9 - self.head.len()).min(data.len());
                self.head.extend_from_slice(&data[..k]);
                data = &data[k..];
                if self.head.len() == 9 {
                    let h = &self.head;
                    let (kind, flags) = (h[3], h[4]);
                    self.skip =
                        usize::from(h[0]) << 16 | usize::from(h[1]) << 8 | usize::from(h[2]);
                    self.head.clear();
                    if kind == 0x4 && flags & 0x1 != 0 {
                        if let Some(acked) = self.acked.take() {
                            acked.send_replace(true);
                        }
                    }
                }
            }
        }
    }
}

impl AsyncRead for SettingsWatch {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for SettingsWatch {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            self.written(&[buf], n);
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        // Only until the acknowledgement: then this layer is a pass-through.
        if let (Poll::Ready(Ok(n)), true) = (&polled, self.acked.is_some()) {
            let slices: Vec<&[u8]> = bufs.iter().map(|b| &b[..]).collect();
            self.written(&slices, *n);
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
