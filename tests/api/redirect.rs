//! Redirects on both adapters: a chain through relative and absolute
//! `Location`s ending at a real server, credentials kept on the same
//! origin and dropped across origins, and each refusal (a downgrade from
//! `wss://`, a loop past the limit, following switched off) as its typed
//! error.

use sockweave::handshake::{Accept, ClientRequest, HandshakeError, RedirectError};
use sockweave::{Config, Message, ServerPolicy};
use sockweave_net::tls::rustls::{ServerConfig, ServerConnection, StreamOwned};
use sockweave_net::tls::{client_config_with_ca_pem, server_config};
use sockweave_net::{Error, TlsConnector};
use sockweave_tests::certs::TestCerts;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, mpsc};
use std::thread;

/// A plain HTTP server answering every request on `path` with `status`
/// and `Location: location`; it reports each request head it reads.
/// Runs until the test's process ends (each test has its own port).
fn redirector(routes: Vec<(&'static str, u16, String)>) -> (u16, mpsc::Receiver<String>) {
    redirector_over(None, routes)
}

/// [`redirector`], over TLS when `tls` is given.
fn redirector_over(
    tls: Option<Arc<ServerConfig>>,
    routes: Vec<(&'static str, u16, String)>,
) -> (u16, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (heads, seen) = mpsc::channel();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(tcp) = stream else { return };
            let mut stream: Box<dyn ReadWrite> = match &tls {
                Some(config) => {
                    let server = ServerConnection::new(config.clone()).unwrap();
                    Box::new(StreamOwned::new(server, tcp))
                }
                None => Box::new(tcp),
            };
            let head = read_head(&mut stream);
            let path = head.split(' ').nth(1).unwrap_or("").to_owned();
            let (status, location) = routes
                .iter()
                .find(|(p, _, _)| *p == path)
                .map_or((404, ""), |(_, s, l)| (*s, l.as_str()));
            let _ = write!(
                stream,
                "HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
            );
            let _ = stream.flush();
            if heads.send(head).is_err() {
                return;
            }
        }
    });
    (port, seen)
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

fn read_head(stream: &mut impl Read) -> String {
    let mut head = Vec::new();
    let mut byte = [0];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// A WebSocket echo server for one connection; it reports the request's
/// `Authorization` and `Cookie` headers.
fn echo_once() -> (u16, mpsc::Receiver<(bool, bool)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = sockweave_std::accept_with_hook(
            stream,
            ServerPolicy::default(),
            Config::default(),
            |request| {
                let credentials = (
                    request.header("authorization").is_some(),
                    request.header("cookie").is_some(),
                );
                tx.send(credentials).unwrap();
                Ok(Accept::default())
            },
        )
        .unwrap();
        while let Ok(Some(message)) = ws.recv() {
            ws.send(message).unwrap();
        }
    });
    (port, rx)
}

fn request(url: &str, max: u8) -> ClientRequest {
    ClientRequest::new(url)
        .unwrap()
        .header("Authorization", "Bearer secret")
        .header("Cookie", "session=1")
        .follow_redirects(max)
}

/// Connects on the named adapter, sends one message and returns its echo.
fn connect_and_echo(adapter: &str, request: &ClientRequest) -> Result<Message, Error> {
    connect_and_echo_with(adapter, request, TlsConnector::default())
}

fn connect_and_echo_with(
    adapter: &str,
    request: &ClientRequest,
    tls: TlsConnector,
) -> Result<Message, Error> {
    let hello = Message::from("after the redirects");
    match adapter {
        "std" => {
            let mut ws = sockweave_std::connect_with(request, Config::default(), &tls)?;
            ws.send(hello)?;
            Ok(ws.recv()?.expect("an echo"))
        }
        _ => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let mut ws =
                    sockweave_tokio::connect_with(request, Config::default(), &tls).await?;
                ws.send(hello).await?;
                Ok(ws.recv().await?.expect("an echo"))
            }),
    }
}

#[test]
fn a_chain_reaches_the_server_and_credentials_stay_with_their_origin() {
    for adapter in ["std", "tokio"] {
        let (echo, credentials) = echo_once();
        // 127.0.0.1 -> (relative) 127.0.0.1/b -> (absolute, http scheme,
        // another origin) localhost:echo.
        let (port, heads) = redirector(vec![
            ("/a/start", 301, "b".into()),
            ("/a/b", 307, format!("http://localhost:{echo}/chat")),
        ]);
        let request = request(&format!("ws://127.0.0.1:{port}/a/start"), 5);
        let echoed = connect_and_echo(adapter, &request).unwrap();
        assert_eq!(echoed, Message::from("after the redirects"), "{adapter}");
        let first = heads.recv().unwrap();
        let second = heads.recv().unwrap();
        assert!(first.starts_with("GET /a/start "), "{first}");
        assert!(second.starts_with("GET /a/b "), "{second}");
        assert!(
            second.contains("Authorization: Bearer secret") && second.contains("Cookie: "),
            "same origin keeps the credentials: {second}"
        );
        assert_eq!(
            credentials.recv().unwrap(),
            (false, false),
            "{adapter}: another origin gets neither Authorization nor Cookie"
        );
    }
}

#[test]
fn refusals_are_typed() {
    for adapter in ["std", "tokio"] {
        // A loop: each hop counts until the limit.
        let (port, _heads) = redirector(vec![("/loop", 302, "/loop".into())]);
        let looping = request(&format!("ws://127.0.0.1:{port}/loop"), 3);
        match connect_and_echo(adapter, &looping) {
            Err(Error::Redirect(RedirectError::TooMany(3))) => {}
            other => panic!("{adapter}: a loop must stop at 3, got {other:?}"),
        }
        // Following off (the default): the redirect is the handshake's error.
        let off = ClientRequest::new(&format!("ws://127.0.0.1:{port}/loop")).unwrap();
        match connect_and_echo(adapter, &off) {
            Err(Error::Handshake(HandshakeError::Status { status: 302, .. })) => {}
            other => panic!("{adapter}: expected the 302 itself, got {other:?}"),
        }
        // No Location at all.
        let (port, _heads) = redirector(vec![("/x", 308, String::new())]);
        let bare = request(&format!("ws://127.0.0.1:{port}/x"), 3);
        match connect_and_echo(adapter, &bare) {
            Err(Error::Redirect(RedirectError::NoLocation)) => {}
            other => panic!("{adapter}: expected NoLocation, got {other:?}"),
        }
    }
}

/// `wss://` to `ws://` is refused before any byte goes to the new place
/// (a WebSocket server listens there, and hears nothing).
#[test]
fn a_downgrade_is_refused() {
    let certs = TestCerts::localhost();
    let server = server_config(certs.chain_pem.as_bytes(), certs.key_pem.as_bytes()).unwrap();
    for adapter in ["std", "tokio"] {
        let (plain, reached) = echo_once();
        let (port, heads) = redirector_over(
            Some(server.clone()),
            vec![("/", 301, format!("ws://localhost:{plain}/"))],
        );
        let tls = TlsConnector::rustls(client_config_with_ca_pem(certs.ca_pem.as_bytes()).unwrap());
        let request = request(&format!("wss://localhost:{port}/"), 3);
        match connect_and_echo_with(adapter, &request, tls) {
            Err(Error::Redirect(RedirectError::Downgrade)) => {}
            other => panic!("{adapter}: expected a refused downgrade, got {other:?}"),
        }
        assert!(heads.recv().unwrap().starts_with("GET / "), "over TLS");
        assert!(
            reached.try_recv().is_err(),
            "{adapter}: nothing went to ws://"
        );
    }
}
