//! Clients through real proxies from Debian's packages: tinyproxy (HTTP
//! `CONNECT`, with and without Basic credentials) and Dante's `danted`
//! (SOCKS5), for `ws://` and for `wss://` (TLS inside the tunnel, checked
//! against the server's name), on both adapters; and each refusal as its
//! typed error. The proxies run as child processes on loopback ports and
//! are stopped when each test ends.
//!
//! `bash tests/proxy/run.sh` installs them and runs these tests (they are
//! `#[ignore]`d otherwise: they need the two programs).

use sockweave::handshake::ClientRequest;
use sockweave::{Config, Message};
use sockweave_net::tls::{client_config_with_ca_pem, server_config};
use sockweave_net::{Error, Proxy, ProxyError, TlsConnector};
use sockweave_tests::certs::TestCerts;
use sockweave_tests::process::{Running, free_port};
use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sockweave-proxy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// tinyproxy on a free port; `extra` lines are added to its config.
fn tinyproxy(extra: &str) -> (Running, u16) {
    let port = free_port();
    let conf = scratch(&format!("tinyproxy-{port}.conf"));
    let mut file = std::fs::File::create(&conf).unwrap();
    writeln!(
        file,
        "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\nAllow 127.0.0.1\n\
         LogLevel Warning\n{extra}"
    )
    .unwrap();
    // As root it must drop to someone; as anyone else these are ignored.
    if is_root() {
        writeln!(file, "User nobody\nGroup nogroup").unwrap();
    }
    let child = Command::new("tinyproxy")
        .args(["-d", "-c"])
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("tinyproxy (bash tests/proxy/run.sh installs it)");
    let mut running = Running(child);
    running.wait_for(port);
    (running, port)
}

/// danted (SOCKS5, no login) on a free port; `rules` are its socks rules.
fn danted(rules: &str) -> (Running, u16) {
    let port = free_port();
    let conf = scratch(&format!("danted-{port}.conf"));
    // Settings first, rules after: danted refuses them in another order.
    let users = match is_root() {
        true => "user.privileged: root\nuser.unprivileged: nobody\n",
        false => "",
    };
    let config = format!(
        "logoutput: stderr\ninternal: 127.0.0.1 port = {port}\nexternal: 127.0.0.1\n\
         socksmethod: none\nclientmethod: none\n{users}\
         client pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 }}\n{rules}\n"
    );
    std::fs::write(&conf, config).unwrap();
    let child = Command::new("danted")
        .arg("-f")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("danted (bash tests/proxy/run.sh installs it)");
    let mut running = Running(child);
    running.wait_for(port);
    (running, port)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.starts_with(b"0"))
}

/// A std echo server, plain or TLS, for `connections` connections.
/// Returns its port.
fn echo_server(
    tls: Option<Arc<sockweave_net::tls::rustls::ServerConfig>>,
    connections: usize,
) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let Ok(stream) = stream else { continue };
            let tls = tls.clone();
            thread::spawn(move || {
                let stream = match tls {
                    Some(config) => sockweave_std::TlsAcceptor::new(config).accept(stream)?,
                    None => sockweave_std::MaybeTls::Plain(stream),
                };
                let mut ws = sockweave_std::accept(stream)?;
                while let Some(message) = ws.recv()? {
                    ws.send(message)?;
                }
                Ok::<_, Error>(())
            });
        }
    });
    port
}

/// One round trip through `proxy` on each adapter, to `url`.
fn round_trip(url: &str, proxy: &Proxy, tls: &TlsConnector) {
    let request = ClientRequest::new(url).unwrap();
    let mut ws = sockweave_std::connect_via(&request, Config::default(), tls, proxy)
        .unwrap_or_else(|e| panic!("std through {proxy:?} to {url}: {e}"));
    ws.send("through the proxy").unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::from("through the proxy")));
    ws.close(sockweave::CloseCode::NORMAL, "").unwrap();
    while ws.recv().unwrap().is_some() {}

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut ws = sockweave_tokio::connect_via(&request, Config::default(), tls, proxy)
            .await
            .unwrap_or_else(|e| panic!("tokio through {proxy:?} to {url}: {e}"));
        ws.send("through the proxy").await.unwrap();
        assert_eq!(
            ws.recv().await.unwrap(),
            Some(Message::from("through the proxy"))
        );
        ws.close(sockweave::CloseCode::NORMAL, "").await.unwrap();
        while ws.recv().await.unwrap().is_some() {}
    });
}

/// The browser-style `WebSocket` (std) through `proxy`: open, one echo.
fn browser_round_trip(url: &str, proxy: &Proxy) {
    use sockweave_std::browser::{BrowserEvent, MessageData, Options, WebSocket};
    let mut options = Options::default();
    options.proxy = Some(proxy.clone());
    let socket = WebSocket::with_options(url, &[], options).unwrap();
    assert_eq!(socket.next(), Some(BrowserEvent::Open), "through {proxy:?}");
    socket.send("browser through the proxy").unwrap();
    match socket.next() {
        Some(BrowserEvent::Message(m)) => {
            assert!(matches!(m.data, MessageData::Text(t) if t == "browser through the proxy"))
        }
        other => panic!("expected the echo, got {other:?}"),
    }
    socket.close(Some(1000), None).unwrap();
}

fn refusal(url: &str, proxy: &Proxy) -> ProxyError {
    let request = ClientRequest::new(url).unwrap();
    match sockweave_std::connect_via(&request, Config::default(), &TlsConnector::default(), proxy) {
        Err(Error::Proxy(e)) => e,
        Err(e) => panic!("expected a proxy error, got {e}"),
        Ok(_) => panic!("expected a proxy error, got a connection"),
    }
}

fn tls_setup() -> (Arc<sockweave_net::tls::rustls::ServerConfig>, TlsConnector) {
    let certs = TestCerts::localhost();
    let server = server_config(certs.chain_pem.as_bytes(), certs.key_pem.as_bytes()).unwrap();
    let client = client_config_with_ca_pem(certs.ca_pem.as_bytes()).unwrap();
    (server, TlsConnector::rustls(client))
}

#[test]
#[ignore = "needs tinyproxy: bash tests/proxy/run.sh"]
fn http_connect_through_tinyproxy() {
    let (_proxy, port) = tinyproxy("");
    let proxy = Proxy::parse(&format!("http://127.0.0.1:{port}")).unwrap();
    let plain = echo_server(None, 3);
    round_trip(
        &format!("ws://127.0.0.1:{plain}/"),
        &proxy,
        &TlsConnector::default(),
    );
    browser_round_trip(&format!("ws://127.0.0.1:{plain}/"), &proxy);
    let (server, client) = tls_setup();
    let secure = echo_server(Some(server), 2);
    round_trip(&format!("wss://localhost:{secure}/"), &proxy, &client);
    // Nothing listens there: the proxy answers with an error status.
    let closed = free_port();
    assert!(matches!(
        refusal(&format!("ws://127.0.0.1:{closed}/"), &proxy),
        ProxyError::Refused(500..=599)
    ));
}

#[test]
#[ignore = "needs tinyproxy: bash tests/proxy/run.sh"]
fn tinyproxy_with_credentials_and_a_port_allow_list() {
    let (_proxy, port) = tinyproxy("BasicAuth alice s3cret\n");
    let plain = echo_server(None, 2);
    let url = format!("ws://127.0.0.1:{plain}/");
    let with = Proxy::parse(&format!("http://alice:s3cret@127.0.0.1:{port}")).unwrap();
    round_trip(&url, &with, &TlsConnector::default());
    let without = Proxy::parse(&format!("http://127.0.0.1:{port}")).unwrap();
    assert_eq!(refusal(&url, &without), ProxyError::AuthRequired);
    let wrong = Proxy::parse(&format!("http://alice:guess@127.0.0.1:{port}")).unwrap();
    assert_eq!(refusal(&url, &wrong), ProxyError::AuthFailed);
    // CONNECT only to port 443: ours is refused with 403.
    let (_strict, strict_port) = tinyproxy("ConnectPort 443\n");
    let strict = Proxy::parse(&format!("http://127.0.0.1:{strict_port}")).unwrap();
    assert_eq!(refusal(&url, &strict), ProxyError::Refused(403));
}

#[test]
#[ignore = "needs danted: bash tests/proxy/run.sh"]
fn socks5_through_dante() {
    let closed = free_port();
    let rules = format!(
        "socks block {{ from: 0.0.0.0/0 to: 127.0.0.1/32 port = {closed} }}\n\
         socks pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 }}"
    );
    let (_proxy, port) = danted(&rules);
    let proxy = Proxy::parse(&format!("socks5://127.0.0.1:{port}")).unwrap();
    let plain = echo_server(None, 4);
    // By address, and by name (the proxy resolves it).
    round_trip(
        &format!("ws://127.0.0.1:{plain}/"),
        &proxy,
        &TlsConnector::default(),
    );
    round_trip(
        &format!("ws://localhost:{plain}/"),
        &proxy,
        &TlsConnector::default(),
    );
    let (server, client) = tls_setup();
    let secure = echo_server(Some(server), 2);
    round_trip(&format!("wss://localhost:{secure}/"), &proxy, &client);
    // A rule refuses this destination: SOCKS5 reply 2, "not allowed".
    assert_eq!(
        refusal(&format!("ws://127.0.0.1:{closed}/"), &proxy),
        ProxyError::Refused(2)
    );
}
