//! A client that uses HTTP/2 when the server offers WebSockets over it
//! (RFC 8441) and HTTP/1.1 otherwise, and says which it used:
//! `hyper_h2_client URL [--ca FILE] [--prior-knowledge]`.
//!
//! Sends each line of stdin as a text message and prints what comes back,
//! then closes with 1000 and prints the close. `wss://` offers `h2` and
//! `http/1.1` by ALPN; `ws://` is HTTP/1.1 unless `--prior-knowledge`
//! (h2c). Exit status: 0 on a clean close, 1 otherwise, 2 on bad arguments.

use sockweave_hyper::sockweave::{ClientRequest, CloseCode, Config, Message};
use sockweave_hyper::{ClientOptions, Transport, connect};
use std::io::BufRead;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut url = None;
    let mut options = ClientOptions::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--prior-knowledge" => options.http2_prior_knowledge = true,
            "--ca" => {
                let Some(path) = args.next() else {
                    eprintln!("--ca needs a file");
                    return ExitCode::from(2);
                };
                match sockweave_tokio::rustls::client_config_with_ca_file(path.as_ref()) {
                    Ok(config) => options.tls = Some(config),
                    Err(e) => {
                        eprintln!("--ca {path}: {e}");
                        return ExitCode::from(2);
                    }
                }
            }
            _ => url = Some(arg),
        }
    }
    let Some(request) = url.as_deref().and_then(|u| ClientRequest::new(u).ok()) else {
        eprintln!("usage: hyper_h2_client URL [--ca FILE] [--prior-knowledge]");
        return ExitCode::from(2);
    };
    let (mut ws, transport) = match connect(&request, Config::default(), &options).await {
        Ok(opened) => opened,
        Err(e) => {
            eprintln!("connect: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "connected over {}",
        match transport {
            Transport::Http2 => "HTTP/2 (extended CONNECT)",
            Transport::Http11 => "HTTP/1.1 (upgrade)",
        }
    );
    let lines: Vec<String> = std::io::stdin()
        .lock()
        .lines()
        .map_while(Result::ok)
        .collect();
    for line in lines {
        if let Err(e) = ws.send(Message::from(line)).await {
            eprintln!("send: {e}");
            return ExitCode::FAILURE;
        }
        match ws.recv().await {
            Ok(Some(Message::Text(text))) => println!("{}", text.as_str()),
            Ok(Some(Message::Binary(bytes))) => println!("<{} bytes>", bytes.len()),
            Ok(None) => break,
            Err(e) => {
                eprintln!("receive: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let _ = ws.close(CloseCode::NORMAL, "bye").await;
    while let Ok(Some(_)) = ws.recv().await {}
    match ws.close_event() {
        Some(close) => {
            eprintln!(
                "closed: {} {:?} clean={}",
                close.code, close.reason, close.was_clean
            );
            if close.was_clean {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        None => ExitCode::FAILURE,
    }
}
