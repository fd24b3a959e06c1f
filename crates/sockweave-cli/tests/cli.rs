//! The `sockweave` command end to end: serve, connect, and exit codes.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_sockweave");

/// A server process, stopped when the test ends (even by a panic: a
/// server left running would hold the test's output open).
struct Server(Child);

impl Server {
    fn kill(&mut self) -> std::io::Result<()> {
        self.0.kill()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `sockweave serve` on a free port; returns the server and its URL.
fn serve(extra: &[&str]) -> (Server, String) {
    let (server, url, _log) = serve_logged(extra);
    (server, url)
}

/// [`serve`], and the server's log lines as they come.
fn serve_logged(extra: &[&str]) -> (Server, String, std::sync::mpsc::Receiver<String>) {
    let mut child = Command::new(BIN)
        .args(["serve", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(url.contains("://127.0.0.1:"), "{line}");
    // Keep draining the log so the server never blocks on a full pipe.
    let (lines, log) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines() {
            let _ = lines.send(line.unwrap_or_default());
        }
    });
    (Server(child), url, log)
}

/// The log's lines until one contains `needle` (or 10 s pass).
fn log_until(log: &std::sync::mpsc::Receiver<String>, needle: &str) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut seen = Vec::new();
    while let Ok(line) =
        log.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
    {
        let found = line.contains(needle);
        seen.push(line);
        if found {
            return seen;
        }
    }
    panic!("no {needle:?} in the log: {seen:#?}");
}

fn connect(args: &[&str], input: &str) -> (i32, String, String) {
    let (code, stdout, stderr) = connect_bytes(args, input.as_bytes());
    (code, String::from_utf8_lossy(&stdout).into(), stderr)
}

#[test]
fn echo_round_trip_on_every_adapter() {
    for adapter in ["tokio", "std", "mio"] {
        let (mut server, url) = serve(&["--adapter", adapter, "--protocol", "chat"]);
        let (code, stdout, stderr) = connect(&[&url, "--protocol", "chat"], "hello\nκόσμε 𝄞\n");
        server.kill().unwrap();
        assert_eq!(code, 0, "{adapter}: {stderr}");
        assert_eq!(stdout, "hello\nκόσμε 𝄞\n");
        assert!(stderr.contains("protocol chat"), "{stderr}");
        assert!(stderr.contains("closed: code 1000"), "{stderr}");
    }
}

#[test]
fn deflate_on_every_adapter_and_preset() {
    let long = "compress me, compress me, compress me, ".repeat(100);
    let input = format!("short\n{long}\n");
    for adapter in ["tokio", "std", "mio"] {
        for preset in ["default", "low-memory", "no-context"] {
            let flag = format!("--deflate={preset}");
            let (mut server, url) = serve(&["--adapter", adapter, &flag]);
            // `--deflate` before the URL does not take it for a preset.
            let (code, stdout, stderr) = connect(&["--deflate", &url], &input);
            // Not offered: not negotiated.
            let (_, plain_out, plain_err) = connect(&[&url], "plain\n");
            server.kill().unwrap();
            assert_eq!(code, 0, "{adapter} {preset}: {stderr}");
            assert_eq!(stdout, input);
            assert!(stderr.contains("extensions permessage-deflate"), "{stderr}");
            assert_eq!(plain_out, "plain\n");
            assert!(!plain_err.contains("extensions"), "{plain_err}");
        }
    }
    // A server without --deflate declines the offer.
    let (mut server, url) = serve(&[]);
    let (code, _, stderr) = connect(&[&url, "--deflate"], "x\n");
    server.kill().unwrap();
    assert_eq!(code, 0);
    assert!(!stderr.contains("extensions"), "{stderr}");
}

#[test]
fn exit_codes_say_what_went_wrong() {
    assert_eq!(connect(&["http://nope"], "").0, 2, "bad URL");
    // A header that cannot be written is a usage error, said before
    // anything is sent.
    let (code, _, stderr) = connect(&["ws://127.0.0.1:1/", "-H", "Bad Name: x"], "");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not a token"), "{stderr}");
    let (code, _, stderr) = connect(&["ws://127.0.0.1:1/", "-H", "no colon"], "");
    assert_eq!(code, 2, "{stderr}");
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, _, stderr) = connect(&[&format!("ws://127.0.0.1:{port}/")], "");
    assert_eq!(code, 3, "{stderr}");
    // An Origin the server does not allow: 403.
    let (mut server, url) = serve(&["--allow-origin", "https://good.example"]);
    let (code, _, stderr) = connect(&[&url, "--header", "Origin: https://evil.example"], "");
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("403"), "{stderr}");
    // The same refused Origin twice: 400, never the 101 it once got.
    let evil = "Origin: https://evil.example";
    let (code, _, stderr) = connect(&[&url, "--header", evil, "--header", evil], "");
    server.kill().unwrap();
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("400"), "{stderr}");
    // --same-origin and --require-origin: the server's own host passes, a
    // client without Origin does not.
    let (mut server, url) = serve(&["--same-origin", "--require-origin"]);
    let own = format!(
        "Origin: http://{}",
        url.trim_start_matches("ws://").trim_end_matches('/')
    );
    let (code, _, stderr) = connect(&[&url, "--header", &own], "");
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = connect(&[&url], "");
    server.kill().unwrap();
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("403"), "{stderr}");
}

#[test]
fn redirects_show_their_location() {
    let (url, server) = redirecting(1, 301, "ws://127.0.0.1/new".into());
    let (code, _, stderr) = connect(&[&url], "");
    server.join().unwrap();
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("301"), "{stderr}");
    assert!(
        stderr.contains(r#"location: "ws://127.0.0.1/new""#),
        "{stderr}"
    );
}

/// A plain HTTP server answering each of `count` requests with `status`
/// and `Location: location`.
fn redirecting(
    count: usize,
    status: u16,
    location: String,
) -> (String, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/old", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        for _ in 0..count {
            let (mut stream, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8];
            while !head.ends_with(b"\r\n\r\n") {
                std::io::Read::read_exact(&mut stream, &mut byte).unwrap();
                head.push(byte[0]);
            }
            let answer = format!("HTTP/1.1 {status} Moved\r\nLocation: {location}\r\n\r\n");
            stream.write_all(answer.as_bytes()).unwrap();
        }
    });
    (url, server)
}

#[test]
fn follow_redirects_with_dash_l() {
    let (mut server, target) = serve(&[]);
    let (url, redirector) = redirecting(1, 307, target.clone());
    let (code, stdout, stderr) = connect(&["-L", &url], "moved\n");
    redirector.join().unwrap();
    server.kill().unwrap();
    assert_eq!((code, stdout.as_str()), (0, "moved\n"), "{stderr}");
    assert!(
        stderr.contains(&format!("redirected to {target}")),
        "{stderr}"
    );
    // A loop stops at --max-redirects, as a failed handshake.
    let (url, redirector) = redirecting(3, 302, "/old".into());
    let (code, _, stderr) = connect(&["-L", "--max-redirects", "2", &url], "");
    redirector.join().unwrap();
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("more than 2 redirects"), "{stderr}");
}

#[test]
fn wss_with_a_generated_certificate() {
    let dir = std::env::temp_dir().join(format!("sockweave-cli-tls-{}", std::process::id()));
    let certs = sockweave_tests::certs::TestCerts::localhost();
    let [ca, cert, key] = certs.write_to(&dir).unwrap();
    let (ca, cert, key) = (
        ca.to_str().unwrap(),
        cert.to_str().unwrap(),
        key.to_str().unwrap(),
    );
    for adapter in ["tokio", "std"] {
        let (mut server, url) =
            serve(&["--adapter", adapter, "--tls-cert", cert, "--tls-key", key]);
        assert!(url.starts_with("wss://"), "{url}");
        let url = url.replace("127.0.0.1", "localhost");
        let (code, stdout, stderr) = connect(&[&url, "--ca", ca], "secret 𝄞\n");
        assert_eq!(
            (code, stdout.as_str()),
            (0, "secret 𝄞\n"),
            "{adapter}: {stderr}"
        );
        // Without our CA the platform's roots do not know the issuer.
        let (code, _, stderr) = connect(&[&url], "");
        assert_eq!(code, 5, "{adapter}: {stderr}");
        assert!(stderr.contains("unknown issuer"), "{stderr}");
        assert!(
            stderr.contains("--ca FILE") && stderr.contains("-k"),
            "a hint: {stderr}"
        );
        let (code, stdout, stderr) = connect(&[&url, "--insecure"], "anyway\n");
        assert_eq!(
            (code, stdout.as_str()),
            (0, "anyway\n"),
            "{adapter}: {stderr}"
        );
        server.kill().unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn client_certificates_with_cert_and_key() {
    let dir = std::env::temp_dir().join(format!("sockweave-cli-mtls-{}", std::process::id()));
    let certs = sockweave_tests::certs::TestCerts::localhost();
    let [ca, cert, key] = certs.write_to(&dir).unwrap();
    let (client_cert, client_key) = (dir.join("client.pem"), dir.join("client-key.pem"));
    std::fs::write(&client_cert, &certs.client_chain_pem).unwrap();
    std::fs::write(&client_key, &certs.client_key_pem).unwrap();
    let path = |p: &std::path::PathBuf| p.to_str().unwrap().to_owned();
    let (ca, cert, key) = (path(&ca), path(&cert), path(&key));
    let (client_cert, client_key) = (path(&client_cert), path(&client_key));
    for adapter in ["tokio", "std"] {
        let tls = ["--tls-cert", &cert, "--tls-key", &key, "--client-ca", &ca];
        let (mut server, url) = serve(&[&["--adapter", adapter], &tls[..]].concat());
        let url = url.replace("127.0.0.1", "localhost");
        let with = ["--ca", &ca, "--cert", &client_cert, "--key", &client_key];
        let (code, stdout, stderr) = connect(&[&[url.as_str()], &with[..]].concat(), "mutual\n");
        assert_eq!(
            (code, stdout.as_str()),
            (0, "mutual\n"),
            "{adapter}: {stderr}"
        );
        // Without one, the server refuses: a TLS failure (exit 5).
        let (code, _, stderr) = connect(&[&url, "--ca", &ca], "");
        assert_eq!(code, 5, "{adapter}: {stderr}");
        // And the server goes on serving.
        let (code, _, stderr) = connect(&[&[url.as_str()], &with[..]].concat(), "");
        assert_eq!(code, 0, "{adapter}: {stderr}");
        server.kill().unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `sockweave connect` on raw bytes; returns (exit code, stdout, stderr).
fn connect_bytes(args: &[&str], input: &[u8]) -> (i32, Vec<u8>, String) {
    let mut child = Command::new(BIN)
        .arg("connect")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    (
        out.status.code().unwrap(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn binary_input_is_bytes_and_text_input_that_is_not_utf8_is_an_error() {
    let (mut server, url) = serve(&[]);
    // Every byte value but the newline, then invalid UTF-8, line by line.
    let mut input: Vec<u8> = (0..=255u8).filter(|&b| b != b'\n').collect();
    input.extend_from_slice(b"\n\xff\xfe\xc0 not UTF-8\n");
    let (code, stdout, stderr) = connect_bytes(&[&url, "--binary"], &input);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, input, "every byte came back");
    // Text mode does not stop quietly at a line it cannot send.
    let (code, stdout, stderr) = connect_bytes(&[&url], b"fine\n\xff\xfe\nnever sent\n");
    server.kill().unwrap();
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stdout, b"fine\n");
    assert!(stderr.contains("not UTF-8"), "{stderr}");
}

/// 200,000 lines through `sockweave connect` and an echo server come back
/// whole and in order, text and binary, within a budget set as a ratio:
/// at most 2x the time an in-process client (the tokio adapter, a batch
/// of lines per write) takes for the same lines against the same server,
/// in the same build. The command writing one message per syscall, or
/// waiting for each echo, would be several times slower than that.
#[test]
fn a_large_pipe_comes_back_whole_and_fast() {
    use std::time::{Duration, Instant};
    let (mut server, url) = serve(&[]);
    let lines: Vec<String> = (0..200_000).map(|i| format!("{i}")).collect();
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let baseline = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let started = Instant::now();
            let mut ws = sockweave_tokio::connect(&url).await.unwrap();
            let (mut sent, mut back) = (0, 0);
            while back < lines.len() {
                // A batch out in one write, then whatever has come back.
                for line in lines.iter().skip(sent).take(1024) {
                    ws.feed(line.as_str()).await.unwrap();
                    sent += 1;
                }
                ws.flush().await.unwrap();
                let mut next = ws.recv().await.unwrap();
                while let Some(message) = next {
                    assert_eq!(message, lines[back].as_str().into());
                    back += 1;
                    next = ws.try_recv();
                }
            }
            ws.close(sockweave::CloseCode::NORMAL, "").await.unwrap();
            while ws.recv().await.unwrap().is_some() {}
            started.elapsed()
        });
    let mut took = Vec::new();
    for binary in [false, true] {
        let started = Instant::now();
        // Written from a thread while the output is read: a pipe this
        // large would otherwise fill both ways.
        let args: &[&str] = if binary { &[&url, "-b"] } else { &[&url] };
        let (code, stdout, stderr) = connect_bytes(args, input.as_bytes());
        took.push(started.elapsed());
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout == input.as_bytes(), "200,000 lines in order");
    }
    server.kill().unwrap();
    let budget = baseline * 2 + Duration::from_millis(200);
    for (mode, took) in ["text", "binary"].iter().zip(took) {
        assert!(
            took <= budget,
            "{mode}: {took:?} for 200,000 lines, over 2x the library's {baseline:?}"
        );
    }
}

#[test]
fn connect_ends_when_the_server_goes_and_ctrl_c_closes_cleanly() {
    use std::time::{Duration, Instant};
    let start_connect = |url: &str| {
        Command::new(BIN)
            .args(["connect", url])
            .stdin(Stdio::piped()) // held open: only the connection can end it
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let wait = |child: &mut Child| {
        let give_up = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < give_up, "connect did not end");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    // The server crashes: connect says so and exits at once (it used to
    // wait for a line on stdin).
    let (mut server, url) = serve(&[]);
    let mut client = start_connect(&url);
    std::thread::sleep(Duration::from_millis(500));
    server.kill().unwrap();
    assert_eq!(wait(&mut client), Some(1));
    // Ctrl-C sends a close frame and waits for the answer.
    let (mut server, url) = serve(&[]);
    let mut client = start_connect(&url);
    std::thread::sleep(Duration::from_millis(1000));
    let interrupted = Command::new("kill")
        .args(["-INT", &client.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    assert_eq!(wait(&mut client), Some(0), "a clean close");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut client.stderr.take().unwrap(), &mut stderr).unwrap();
    server.kill().unwrap();
    assert!(stderr.contains("closed: code 1000"), "{stderr}");
}

#[path = "../../../tests/support/raw_server.rs"]
mod raw_server;

fn accept_key(key: &[u8]) -> [u8; 28] {
    sockweave::handshake::accept_key(key)
}

/// A server whose messages carry terminal escape sequences (a colour, a
/// window-title change, a C1 control) and bytes that are not UTF-8.
fn hostile_text_server() -> String {
    raw_server::raw_server(accept_key, |mut stream| {
        let mut bytes = raw_server::frame(0x1, "\x1b]0;owned\x07\x1b[31mred\u{9b}2J".as_bytes());
        bytes.extend(raw_server::frame(0x2, b"\x1b[1m\xff"));
        bytes.extend(raw_server::frame(0x8, b"\x03\xe8"));
        stream.write_all(&bytes).unwrap();
        let mut reply = [0u8; 64];
        let _ = std::io::Read::read(&mut stream, &mut reply);
    })
}

/// On a terminal, what the server sends is shown escaped and never run;
/// piped, it is passed on byte for byte.
#[test]
fn server_text_cannot_drive_the_terminal() {
    // `script` (util-linux) runs the client on a pseudo-terminal and
    // copies what it writes there.
    let url = hostile_text_server();
    let out = Command::new("script")
        .args([
            "-q",
            "-e",
            "-c",
            &format!("{BIN} connect {url} < /dev/null"),
            "/dev/null",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("script(1) from util-linux");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.stdout.contains(&0x1b) && !shown.contains('\u{9b}'),
        "an escape sequence reached the terminal: {shown:?}"
    );
    assert!(
        shown.contains(r"\u{1b}]0;owned\u{7}\u{1b}[31mred\u{9b}2J"),
        "{shown:?}"
    );
    assert!(shown.contains(r"\u{1b}[1m\xff"), "{shown:?}");

    let url = hostile_text_server();
    let (code, stdout, stderr) = connect_bytes(&[&url], b"");
    assert_eq!(code, 0, "{stderr}");
    let mut expected = "\x1b]0;owned\x07\x1b[31mred\u{9b}2J\n".as_bytes().to_vec();
    expected.extend_from_slice(b"\x1b[1m\xff\n");
    assert_eq!(stdout, expected, "piped output is byte for byte");
}

/// The flags websocat and wscat users reach for: short forms, an Origin,
/// one message and out, a close code and reason of one's own.
#[test]
fn short_flags_origin_one_message_and_a_close_code() {
    let (mut server, url) = serve(&[
        "--protocol",
        "chat",
        "--allow-origin",
        "https://good.example",
    ]);
    let (code, stdout, stderr) = connect(
        &[
            &url,
            "-s",
            "chat",
            "-H",
            "X-Test: yes",
            "-o",
            "https://good.example",
            "-1",
            "--close-code",
            "4001",
            "--close-reason",
            "bye",
        ],
        "first\nsecond\nthird\n",
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "first\n", "one message, then the close");
    assert!(stderr.contains("protocol chat"), "{stderr}");
    assert!(
        stderr.contains(r#"closed: code 4001 reason "bye""#),
        "{stderr}"
    );
    // The Origin really went: another one is refused.
    let (code, _, stderr) = connect(&[&url, "-o", "https://evil.example"], "");
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("403"), "{stderr}");
    // A close code a client may not choose is a usage error.
    let (code, _, stderr) = connect(&[&url, "--close-code", "1006"], "");
    assert_eq!(code, 2, "{stderr}");
    server.kill().unwrap();
}

#[test]
fn broadcast_sends_every_message_to_every_client() {
    let (_server, url) = serve(&["--broadcast", "--deflate=no-context"]);
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut clients: Vec<_> = (0..3)
            .map(|_| sockweave_std::connect(&url).unwrap())
            .collect();
        // A member hears its own message, so once each has heard its own
        // "hi", all three are in the room.
        for (i, client) in clients.iter_mut().enumerate() {
            let hi = format!("hi {i}");
            client.send(hi.as_str()).unwrap();
            while client.recv().unwrap() != Some(hi.as_str().into()) {}
        }
        clients[1].send("hello, room").unwrap();
        for client in &mut clients {
            while client.recv().unwrap() != Some("hello, room".into()) {}
        }
        done.send(()).unwrap();
    });
    finished
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("every client heard the message");
    // Only the tokio adapter has rooms.
    let out = Command::new(BIN)
        .args(["serve", "127.0.0.1:0", "--broadcast", "--adapter", "std"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tokio"));
}

#[test]
fn serve_paths_and_max_connections() {
    for adapter in ["tokio", "std", "mio"] {
        let args = ["--adapter", adapter, "--path", "/chat", "--path", "/feed"];
        let (mut server, url) = serve(&[&args[..], &["--max-connections", "1"]].concat());
        let (code, _, stderr) = connect(&[&format!("{url}/other")], "");
        assert_eq!(code, 4, "{adapter}: {stderr}");
        assert!(stderr.contains("404"), "{adapter}: {stderr}");
        let (code, stdout, stderr) = connect(&[&format!("{url}/feed?x=1")], "in\n");
        assert_eq!((code, stdout.as_str()), (0, "in\n"), "{adapter}: {stderr}");
        // One connection held open: the next is over the limit.
        let mut held = sockweave_std::connect(&format!("{url}/chat")).unwrap();
        let (code, _, stderr) = connect(&[&format!("{url}/chat")], "");
        assert_eq!(code, 4, "{adapter}: {stderr}");
        assert!(stderr.contains("503"), "{adapter}: {stderr}");
        held.send("still served").unwrap();
        assert_eq!(held.recv().unwrap().unwrap(), "still served".into());
        held.close(sockweave::CloseCode::NORMAL, "").unwrap();
        while held.recv().unwrap().is_some() {}
        // Its place is given back.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let (code, _, stderr) = connect(&[&format!("{url}/chat")], "");
            if code == 0 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{adapter}: {stderr}");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        server.kill().unwrap();
    }
}

#[test]
fn sigterm_closes_every_client_with_1001() {
    for adapter in ["tokio", "std", "mio", "broadcast"] {
        let args = match adapter {
            "broadcast" => vec!["--broadcast", "-v"],
            _ => vec!["--adapter", adapter, "-v"],
        };
        let (mut server, url, log) = serve_logged(&args);
        let mut clients: Vec<_> = (0..3)
            .map(|_| sockweave_std::connect(&format!("{url}/room")).unwrap())
            .collect();
        if adapter != "broadcast" {
            for client in &mut clients {
                client.send("before").unwrap();
                assert_eq!(client.recv().unwrap().unwrap(), "before".into());
            }
            let seen = log_until(&log, "text message, 6 bytes");
            assert!(
                seen.iter().any(|l| l.contains("request /room")),
                "{seen:#?}"
            );
        } else {
            for _ in 0..3 {
                log_until(&log, " open");
            }
        }
        let pid = server.0.id().to_string();
        let signalled = std::time::Instant::now();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        for client in &mut clients {
            assert_eq!(
                client
                    .recv()
                    .map_err(|e| format!("{adapter}: {e}"))
                    .unwrap(),
                None
            );
            let close = client.close_event().unwrap();
            assert_eq!(u16::from(close.code), 1001, "{adapter}: {close:?}");
            assert!(close.was_clean, "{adapter}: {close:?}");
        }
        let status = server.0.wait().unwrap();
        assert!(status.success(), "{adapter}: {status}");
        // Every client answered at once: no waiting out the 5 s close
        // timeout (nor a lost wake-up left for the next timer).
        let took = signalled.elapsed();
        assert!(
            took < std::time::Duration::from_secs(4),
            "{adapter}: {took:?}"
        );
        log_until(&log, "sockweave: stopped");
    }
}

#[test]
fn quiet_logs_no_connections() {
    let (mut server, url, log) = serve_logged(&["-q"]);
    let (code, _, stderr) = connect(&[&url], "hello\n");
    assert_eq!(code, 0, "{stderr}");
    server.kill().unwrap();
    let _ = server.0.wait();
    let lines: Vec<String> = log.iter().collect();
    assert!(lines.is_empty(), "{lines:#?}");
}

/// Runs `sockweave connect` on a pseudo-terminal (`script` from
/// util-linux), typing `keys` one piece at a time; returns the exit code
/// and everything the terminal showed.
fn on_terminal(args: &str, keys: &[&[u8]]) -> (Option<i32>, String) {
    let mut child = Command::new("script")
        .args([
            "-q",
            "-e",
            "-c",
            &format!("exec {BIN} connect {args}"),
            "/dev/null",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("script(1) from util-linux");
    let mut stdin = child.stdin.take().unwrap();
    let keys: Vec<Vec<u8>> = keys.iter().map(|k| k.to_vec()).collect();
    let typist = std::thread::spawn(move || {
        for piece in keys {
            std::thread::sleep(std::time::Duration::from_millis(300));
            let _ = stdin.write_all(&piece);
            let _ = stdin.flush();
        }
        // Held open until the client is done: EOF would end the session.
        std::thread::sleep(std::time::Duration::from_secs(3));
    });
    let out = child.wait_with_output().unwrap();
    drop(typist);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn interactive_prompt_slash_commands_and_ctrl_c() {
    let (mut server, url) = serve(&[]);
    let (code, shown) = on_terminal(
        &format!("{url} -P"),
        &[
            b"hello\n",
            b"/ping abc\n",
            b"/binary 00ff\n",
            b"//slash\n",
            b"/nonsense\n",
            b"/close 4001 bye\n",
        ],
    );
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("/help lists the commands"), "{shown}");
    assert!(shown.contains("> "), "a prompt: {shown}");
    assert!(shown.contains("< hello"), "{shown}");
    assert!(shown.contains("pong abc (round trip"), "{shown}");
    assert!(shown.contains(r"< \u{0}\xff"), "binary, escaped: {shown}");
    assert!(shown.contains("< /slash"), "{shown}");
    assert!(shown.contains("unknown command /nonsense"), "{shown}");
    assert!(
        shown.contains(r#"closed: code 4001 reason "bye""#),
        "{shown}"
    );
    // Ctrl-C at the prompt: a close, the reply, exit 0.
    let (code, shown) = on_terminal(&url, &[b"first\n", b"\x03"]);
    server.kill().unwrap();
    assert!(shown.contains("< first"), "{shown}");
    assert!(shown.contains("interrupted: closing"), "{shown}");
    assert!(shown.contains("closed: code 1000"), "{shown}");
    assert_eq!(code, Some(0), "{shown}");
}

#[test]
fn jsonl_base64_execute_and_chunks() {
    let (mut server, url) = serve(&[]);
    let (code, stdout, stderr) = connect_bytes(&[&url, "--jsonl", "-b"], b"\x00\xff\n");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        String::from_utf8(stdout).unwrap(),
        "{\"type\":\"binary\",\"base64\":\"AP8=\"}\n\
         {\"type\":\"close\",\"code\":1000,\"reason\":\"\",\"clean\":true}\n"
    );
    let (code, stdout, stderr) = connect_bytes(&[&url, "--base64", "-b"], b"\x00\xff\n");
    assert_eq!((code, stdout.as_slice()), (0, &b"AP8=\n"[..]), "{stderr}");
    // --execute: the messages, what comes back within --wait, the close.
    let (code, stdout, stderr) = connect(&[&url, "-x", "one", "-x", "two", "-w", "0.5"], "");
    assert_eq!((code, stdout.as_str()), (0, "one\ntwo\n"), "{stderr}");
    // --chunks: each read one message, none over 64 KiB, nothing lost.
    let input: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let (code, stdout, stderr) = connect_bytes(&[&url, "-b", "--chunks"], &input);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout == input, "a byte stream both ways");
    let (code, stdout, stderr) = connect_bytes(&[&url, "-b", "--chunks", "--jsonl"], &input);
    server.kill().unwrap();
    assert_eq!(code, 0, "{stderr}");
    let mut back = Vec::new();
    for line in String::from_utf8(stdout).unwrap().lines() {
        if let Some(rest) = line.strip_prefix("{\"type\":\"binary\",\"base64\":\"") {
            use base64::Engine as _;
            let piece = base64::engine::general_purpose::STANDARD
                .decode(rest.trim_end_matches("\"}"))
                .unwrap();
            assert!(piece.len() <= 64 << 10, "{}", piece.len());
            back.extend(piece);
        }
    }
    assert!(back == input, "{} of {} bytes", back.len(), input.len());
}

#[test]
fn verbose_heads_and_ping_round_trips() {
    let (mut server, url) = serve(&[]);
    let (code, _, stderr) = connect(&[&url, "-v"], "hello\n");
    assert_eq!(code, 0, "{stderr}");
    for expected in [
        "> GET / HTTP/1.1",
        "> Sec-WebSocket-Version: 13",
        "< HTTP/1.1 101 Switching Protocols",
        "> text, 5 bytes",
        "< text, 5 bytes",
        "> close 1000",
        "< close 1000",
    ] {
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
    let args = [
        &url,
        "-P",
        "--ping-interval",
        "0.1",
        "-x",
        "hi",
        "-w",
        "0.5",
    ];
    let (code, _, stderr) = connect(&args, "");
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("pong sockweave 1 (round trip"), "{stderr}");
    let (code, stdout, stderr) = connect(&[&args[..], &["--jsonl"]].concat(), "");
    server.kill().unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(r#""type":"pong","base64":"c29ja3dlYXZlIDE=","rtt_ms":"#),
        "{stdout}"
    );
}

#[test]
fn credentials_from_auth_and_from_the_url() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (seen, heard) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(2) {
            let seen = seen.clone();
            let mut ws = sockweave_std::accept_with_hook(
                stream.unwrap(),
                sockweave::ServerPolicy::default(),
                sockweave::Config::default(),
                move |request| {
                    let auth = request.header("authorization").unwrap_or_default();
                    seen.send(String::from_utf8_lossy(auth).into_owned())
                        .unwrap();
                    Ok(sockweave::handshake::Accept::default())
                },
            )
            .unwrap();
            while let Ok(Some(_)) = ws.recv() {}
        }
    });
    let (code, _, stderr) = connect(&[&format!("ws://alice:s%40cret@127.0.0.1:{port}/")], "");
    assert_eq!(code, 0, "{stderr}");
    // base64("alice:s@cret")
    assert_eq!(heard.recv().unwrap(), "Basic YWxpY2U6c0BjcmV0");
    let (code, _, stderr) = connect(
        &[&format!("ws://127.0.0.1:{port}/"), "--auth", "bob:pw"],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(heard.recv().unwrap(), "Basic Ym9iOnB3");
}

#[test]
fn serve_exec_bridges_each_connection_to_a_process() {
    let script = r#"while read line; do echo "got $line"; done"#;
    let (mut server, url) = serve(&["--exec", script]);
    // The client waits for the answers before it closes (a close at the
    // end of its input would end the connection before them).
    let (code, stdout, stderr) = connect(&[&url, "-x", "hello", "-x", "κόσμε", "-w", "1"], "");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "got hello\ngot κόσμε\n");
    server.kill().unwrap();
    // The process ending closes the connection: 1000, or 1011 if it failed.
    let (mut server, url) = serve(&["--exec", "echo one; echo two"]);
    let (code, stdout, stderr) = connect_held_open(&url);
    assert_eq!((code, stdout.as_str()), (0, "one\ntwo\n"), "{stderr}");
    server.kill().unwrap();
    let (mut server, url) = serve(&["--exec", "echo partial; exit 3"]);
    let (code, stdout, stderr) = connect_held_open(&url);
    server.kill().unwrap();
    assert_eq!(stdout, "partial\n", "{stderr}");
    assert!(
        stderr.contains(r#"closed: code 1011 reason "the command failed""#),
        "{stderr}"
    );
    assert_eq!(code, 0, "the close itself was clean: {stderr}");
    // Another adapter refuses the flag.
    let out = Command::new(BIN)
        .args(["serve", "0", "--adapter", "mio", "--exec", "cat"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `sockweave connect` with stdin held open: only the server ends it.
fn connect_held_open(url: &str) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .args(["connect", url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Taken, or waiting would close it.
    let stdin = child.stdin.take();
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn help_has_examples_and_completions_are_generated() {
    for sub in [
        &["--help"][..],
        &["connect", "--help"],
        &["serve", "--help"],
    ] {
        let out = Command::new(BIN).args(sub).output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && help.contains("Examples:"), "{help}");
    }
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(BIN)
            .args(["completions", shell])
            .output()
            .unwrap();
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{shell}");
        assert!(script.contains("follow-redirects"), "{shell}: {script}");
    }
}
