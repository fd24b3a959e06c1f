//! The `sockweave` command end to end: serve, connect, and exit codes.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_sockweave");

/// Starts `sockweave serve` on a free port; returns the child and its URL.
fn serve(extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "127.0.0.1:0"])
        .args(extra)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(url.starts_with("ws://127.0.0.1:"), "{line}");
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in stderr.lines() {});
    (child, url)
}

fn connect(args: &[&str], input: &str) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .arg("connect")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn echo_round_trip_on_both_adapters() {
    for adapter in ["tokio", "std"] {
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
fn exit_codes_say_what_went_wrong() {
    assert_eq!(connect(&["http://nope"], "").0, 2, "bad URL");
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
    server.kill().unwrap();
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("403"), "{stderr}");
}
