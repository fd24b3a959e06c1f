//! The reference's complete example, in Rust: connect, say hello on open,
//! log each message and close after the first, log errors, log how it
//! closed. `browser_complete [URL]` (default ws://127.0.0.1:9001/). Exits
//! non-zero unless the echo came back and the close was clean.

use sockweave_tokio::browser::{BrowserEvent, MessageData, WebSocket};
use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001/".into());
    // const socket = new WebSocket(url);
    let mut socket = match WebSocket::new(&url, &[]) {
        Ok(socket) => socket,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut echoed = false;
    while let Some(event) = socket.next().await {
        match event {
            // socket.addEventListener("open", () => socket.send("Hello Server!"));
            BrowserEvent::Open => socket.send("Hello Server!").expect("open"),
            // socket.addEventListener("message", (event) => { console.log(...); socket.close(...) });
            BrowserEvent::Message(event) => {
                if let MessageData::Text(text) = &event.data {
                    println!("Message from server: {text}");
                    echoed = text.as_str() == "Hello Server!";
                }
                socket
                    .close(Some(1000), Some("Work complete"))
                    .expect("valid code and reason");
            }
            // socket.addEventListener("error", (event) => console.error(...));
            BrowserEvent::Error(cause) => eprintln!("WebSocket error: {cause:?}"),
            // socket.addEventListener("close", (event) => console.log(event.code, event.reason, event.wasClean));
            BrowserEvent::Close(event) => {
                println!(
                    "Closed: code {} reason {:?} clean {}",
                    event.code, event.reason, event.was_clean
                );
                if !(echoed && event.was_clean) {
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    ExitCode::SUCCESS
}
