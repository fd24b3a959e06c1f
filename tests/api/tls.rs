//! wss:// through both adapters: echo over TLS with certificates made at
//! test time, and each TLS failure surfacing as its typed kind on both ends.

use sockweave::handshake::ClientRequest;
use sockweave::{Bytes, CloseCode, Config, Message};
use sockweave_net::tls::{client_config_with_ca_pem, server_config};
use sockweave_net::{Error, TlsErrorKind};
use sockweave_tests::certs::TestCerts;
use std::net::TcpListener;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

fn corpus() -> Vec<Message> {
    vec![
        Message::from("over TLS: 𝄞 é"),
        Message::from(""),
        Message::Binary(Bytes::from(vec![0xa5; 1 << 20])),
    ]
}

struct Setup {
    certs: TestCerts,
    server: Arc<sockweave_net::tls::rustls::ServerConfig>,
}

fn setup() -> Setup {
    let certs = TestCerts::localhost();
    let server = server_config(certs.chain_pem.as_bytes(), certs.key_pem.as_bytes()).unwrap();
    Setup { certs, server }
}

fn tls_kind(result: Result<impl Sized, Error>) -> TlsErrorKind {
    match result {
        Err(Error::Tls(e)) => e.kind(),
        Err(e) => panic!("expected a TLS error, got {e}"),
        Ok(_) => panic!("expected a TLS error, got success"),
    }
}

/// A std TLS echo server for one connection; returns what its TLS
/// handshake gave.
fn std_server(setup: &Setup) -> (String, thread::JoinHandle<Result<(), Error>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = sockweave_std::TlsAcceptor::new(setup.server.clone());
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let tls = acceptor.accept(stream)?;
        assert!(tls.is_tls());
        let mut ws = sockweave_std::accept(tls)?;
        while let Some(message) = ws.recv()? {
            ws.send(message)?;
        }
        Ok(())
    });
    (format!("wss://localhost:{port}/"), server)
}

type StdTls = sockweave_std::WebSocket<sockweave_std::MaybeTls<std::net::TcpStream>>;

fn std_connect(url: &str, ca_pem: &str) -> Result<StdTls, Error> {
    let tls = sockweave_std::TlsConnector::rustls(client_config_with_ca_pem(ca_pem.as_bytes())?);
    let request = ClientRequest::new(url)?;
    sockweave_std::connect_with(&request, Config::default(), &tls)
}

#[test]
fn std_echo_over_tls() {
    let setup = setup();
    let (url, server) = std_server(&setup);
    let mut ws = std_connect(&url, &setup.certs.ca_pem).unwrap();
    for message in corpus() {
        ws.send(message.clone()).unwrap();
        assert!(ws.recv().unwrap() == Some(message));
    }
    ws.close(CloseCode::NORMAL, "done").unwrap();
    assert_eq!(ws.recv().unwrap(), None);
    assert!(ws.close_event().unwrap().was_clean);
    server.join().unwrap().unwrap();
}

#[test]
fn std_unknown_issuer_is_typed_on_both_ends() {
    let setup = setup();
    let (url, server) = std_server(&setup);
    let other_ca = TestCerts::localhost().ca_pem;
    assert_eq!(
        tls_kind(std_connect(&url, &other_ca)),
        TlsErrorKind::UnknownIssuer
    );
    assert_eq!(tls_kind(server.join().unwrap()), TlsErrorKind::PeerRejected);
}

#[test]
fn std_name_mismatch() {
    let setup = Setup {
        certs: TestCerts::generate(&["elsewhere.test"]),
        ..setup()
    };
    let setup = Setup {
        server: server_config(
            setup.certs.chain_pem.as_bytes(),
            setup.certs.key_pem.as_bytes(),
        )
        .unwrap(),
        ..setup
    };
    let (url, _server) = std_server(&setup);
    assert_eq!(
        tls_kind(std_connect(&url, &setup.certs.ca_pem)),
        TlsErrorKind::NameMismatch
    );
}

#[test]
fn std_tls_client_to_plain_server_is_a_handshake_error() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        // A plain WebSocket server answers the ClientHello with a 400.
        let _ = sockweave_std::accept(stream);
    });
    let ca = TestCerts::localhost().ca_pem;
    let url = format!("wss://localhost:{port}/");
    assert_eq!(tls_kind(std_connect(&url, &ca)), TlsErrorKind::Handshake);
    server.join().unwrap();
}

#[test]
fn std_tls_handshake_times_out() {
    let setup = setup();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor =
        sockweave_std::TlsAcceptor::new(setup.server.clone()).timeout(Duration::from_millis(200));
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        acceptor.accept(stream).map(|_| ())
    });
    // Connect and say nothing.
    let _silent = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    assert_eq!(tls_kind(server.join().unwrap()), TlsErrorKind::Handshake);
}

#[test]
fn std_tls_cannot_be_split_but_plain_can() {
    let setup = setup();
    let (url, _server) = std_server(&setup);
    let ws = std_connect(&url, &setup.certs.ca_pem).unwrap();
    let (stream, conn, input) = ws.into_parts();
    let ws: StdTls = sockweave_std::WebSocket::from_parts(stream, conn, input);
    let error = ws.split().expect_err("a TLS stream cannot be split");
    assert_eq!(error.kind(), std::io::ErrorKind::Unsupported);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

type TokioTls = sockweave_tokio::WebSocket<sockweave_tokio::MaybeTls<tokio::net::TcpStream>>;

/// A listener on a free port, and the acceptor for it.
async fn tokio_listener(
    setup: &Setup,
) -> (tokio::net::TcpListener, u16, sockweave_tokio::TlsAcceptor) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    (
        listener,
        port,
        sockweave_tokio::TlsAcceptor::new(setup.server.clone()),
    )
}

async fn tokio_connect(url: &str, ca_pem: &str) -> Result<TokioTls, Error> {
    let config = client_config_with_ca_pem(ca_pem.as_bytes())?;
    let request = ClientRequest::new(url)?;
    let tls = sockweave_tokio::TlsConnector::rustls(config);
    sockweave_tokio::connect_with(&request, Config::default(), &tls).await
}

#[test]
fn tokio_echo_over_tls_both_ways() {
    let setup = setup();
    runtime().block_on(async {
        let (listener, port, acceptor) = tokio_listener(&setup).await;
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut ws = sockweave_tokio::accept(acceptor.accept(stream).await?).await?;
            while let Some(message) = ws.recv().await? {
                ws.send(message).await?;
            }
            Ok::<_, Error>(ws.close_event().cloned())
        });
        let url = format!("wss://localhost:{port}/");
        let mut ws = tokio_connect(&url, &setup.certs.ca_pem).await.unwrap();
        assert!(ws.get_ref().is_tls());
        for message in corpus() {
            ws.send(message.clone()).await.unwrap();
            assert!(ws.recv().await.unwrap() == Some(message));
        }
        ws.close(CloseCode::from(4000), "tls done").await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), None);
        assert!(ws.close_event().unwrap().was_clean);
        let seen = server.await.unwrap().unwrap().unwrap();
        assert_eq!((u16::from(seen.code), seen.was_clean), (4000, true));
    });
}

#[test]
fn tokio_unknown_issuer_is_typed_on_both_ends() {
    let setup = setup();
    runtime().block_on(async {
        let (listener, port, acceptor) = tokio_listener(&setup).await;
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            acceptor.accept(stream).await.map(|_| ())
        });
        let other_ca = TestCerts::localhost().ca_pem;
        let result = tokio_connect(&format!("wss://127.0.0.1:{port}/"), &other_ca).await;
        assert_eq!(tls_kind(result), TlsErrorKind::UnknownIssuer);
        assert_eq!(tls_kind(server.await.unwrap()), TlsErrorKind::PeerRejected);
    });
}

#[test]
fn mio_client_over_tls_against_the_std_server() {
    use mio::{Events, Poll, Token};
    use sockweave::Event;
    use std::time::Instant;

    let setup = setup();
    let (url, server) = std_server(&setup);
    let request = ClientRequest::new(&url).unwrap();
    let addr = format!("127.0.0.1:{}", request.port).parse().unwrap();
    let sock = mio::net::TcpStream::connect(addr).unwrap();
    let config = client_config_with_ca_pem(setup.certs.ca_pem.as_bytes()).unwrap();
    let tls = sockweave_mio::TlsStream::client(sock, &request.host, config).unwrap();
    let mut config = Config::default();
    config.max_queued = 4 << 20;
    let mut ws = sockweave_mio::WebSocket::client(tls, &request, config).unwrap();
    let mut poll = Poll::new().unwrap();
    ws.register(poll.registry(), Token(0)).unwrap();
    let mut events = Events::with_capacity(16);
    let mut to_send = corpus();
    to_send.reverse();
    let mut echoed = Vec::new();
    let mut closed = None;
    let give_up = Instant::now() + Duration::from_secs(30);
    while closed.is_none() {
        assert!(Instant::now() < give_up, "connection did not finish");
        poll.poll(&mut events, Some(Duration::from_millis(100)))
            .unwrap();
        for event in &events {
            let readable = event.is_readable() || event.is_read_closed();
            ws.on_ready(readable, event.is_writable()).unwrap();
        }
        ws.on_timeout().unwrap();
        while let Some(event) = ws.poll_event() {
            match event {
                Event::Open(_) => ws.send(to_send.pop().unwrap()).unwrap(),
                Event::Message(message) => {
                    echoed.push(message);
                    match to_send.pop() {
                        Some(next) => ws.send(next).unwrap(),
                        None => ws.close(CloseCode::NORMAL, "done").unwrap(),
                    }
                }
                Event::Closed(close) => closed = Some(close),
                _ => {}
            }
        }
        ws.flush().unwrap();
        ws.reregister(poll.registry(), Token(0)).unwrap();
    }
    assert!(echoed == corpus(), "echoes differ");
    assert!(closed.unwrap().was_clean);
    server.join().unwrap().unwrap();
}

/// Mutual TLS: a server that requires client certificates signed by its
/// CA lets in a std and a tokio client presenting one, and refuses a
/// client without one (the client sees the refusal as a typed TLS error).
#[test]
fn client_certificates_when_the_server_requires_them() {
    use sockweave_net::tls::{client_config_with_identity, roots, server_config_with_client_auth};
    let certs = TestCerts::localhost();
    let server = server_config_with_client_auth(
        certs.chain_pem.as_bytes(),
        certs.key_pem.as_bytes(),
        certs.ca_pem.as_bytes(),
    )
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("wss://localhost:{}/", listener.local_addr().unwrap().port());
    let acceptor = sockweave_std::TlsAcceptor::new(server);
    let server = thread::spawn(move || {
        let mut outcomes = Vec::new();
        for _ in 0..4 {
            let (stream, _) = listener.accept().unwrap();
            let served = acceptor.accept(stream).and_then(|tls| {
                let mut ws = sockweave_std::accept(tls)?;
                while let Some(message) = ws.recv()? {
                    ws.send(message)?;
                }
                Ok(())
            });
            outcomes.push(served.is_ok());
        }
        outcomes
    });
    let identity = || {
        let roots = roots(Some(certs.ca_pem.as_bytes())).unwrap();
        let chain = certs.client_chain_pem.as_bytes();
        client_config_with_identity(roots, chain, certs.client_key_pem.as_bytes()).unwrap()
    };
    let request = ClientRequest::new(&url).unwrap();
    let tls = sockweave_std::TlsConnector::rustls(identity());
    let mut ws = sockweave_std::connect_with(&request, Config::default(), &tls).unwrap();
    ws.send("mutual").unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::from("mutual")));
    ws.close(CloseCode::NORMAL, "").unwrap();
    assert_eq!(ws.recv().unwrap(), None);
    runtime().block_on(async {
        let tls = sockweave_tokio::TlsConnector::rustls(identity());
        let mut ws = sockweave_tokio::connect_with(&request, Config::default(), &tls)
            .await
            .unwrap();
        ws.send("mutual").await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Some(Message::from("mutual")));
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), None);
    });
    // Without a certificate: refused, and said so.
    let refused = std_connect(&url, &certs.ca_pem);
    assert_eq!(tls_kind(refused), TlsErrorKind::PeerRejected);
    let refused = runtime().block_on(tokio_connect(&url, &certs.ca_pem));
    assert_eq!(tls_kind(refused), TlsErrorKind::PeerRejected);
    assert_eq!(server.join().unwrap(), [true, true, false, false]);
}
