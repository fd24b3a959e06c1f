//! How what arrives is written: messages to stdout (as they came when
//! piped, escaped on a terminal, binary as base64 with `--base64`, one
//! JSON object per line with `--jsonl`), everything else to stderr; at the
//! interactive prompt, received messages are marked `< `.

use crate::terminal::{escape, escape_bytes};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sockweave::{CloseEvent, Message};
use std::fmt::Write as _;
use std::time::Duration;

/// The output format, from the flags and where stdout goes.
pub(super) struct Output {
    /// `--jsonl`: every event as a JSON object on stdout.
    jsonl: bool,
    /// `--base64`: binary messages as base64 text.
    base64: bool,
    /// Control characters escaped: stdout is a terminal and not `--raw`.
    escaped: bool,
    /// At the interactive prompt.
    prompt: bool,
    /// A newline after each message; not with `--chunks`, where the
    /// output is the byte stream the messages carry.
    newline: bool,
    /// Bytes for stdout, written out by the caller in one go.
    pub(super) pending: Vec<u8>,
}

impl Output {
    pub(super) fn new(jsonl: bool, base64: bool, escaped: bool, prompt: bool) -> Self {
        Self {
            jsonl,
            base64,
            escaped,
            prompt,
            newline: true,
            pending: Vec::new(),
        }
    }

    /// Messages written back to back, as a byte stream (`--chunks`).
    pub(super) fn stream(mut self) -> Self {
        self.newline = false;
        self
    }

    /// The prompt, after what was last shown.
    pub(super) fn show_prompt(&mut self) {
        if self.prompt {
            self.pending.extend_from_slice(b"> ");
        }
    }

    pub(super) fn message(&mut self, message: &Message) {
        if self.jsonl {
            let line = match message {
                Message::Text(text) => {
                    format!(r#"{{"type":"text","data":{}}}"#, json(text.as_str()))
                }
                Message::Binary(bytes) => {
                    format!(
                        r#"{{"type":"binary","base64":"{}"}}"#,
                        STANDARD.encode(bytes)
                    )
                }
            };
            return self.line(&line);
        }
        if self.prompt {
            // Over the prompt: back to the line's start.
            self.pending.extend_from_slice(b"\r< ");
        }
        match message {
            Message::Binary(bytes) if self.base64 => {
                let encoded = STANDARD.encode(bytes);
                self.pending.extend_from_slice(encoded.as_bytes());
            }
            // Shown, never run (see `terminal`).
            Message::Text(text) if self.escaped => self
                .pending
                .extend_from_slice(escape(text.as_str()).as_bytes()),
            Message::Binary(bytes) if self.escaped => self
                .pending
                .extend_from_slice(escape_bytes(bytes).as_bytes()),
            message => self.pending.extend_from_slice(message.as_bytes()),
        }
        if self.newline {
            self.pending.push(b'\n');
        }
        self.show_prompt();
    }

    /// A ping or pong (`--show-ping-pong`), with the round trip of a pong
    /// answering one of ours.
    pub(super) fn control(&mut self, kind: &str, payload: &[u8], rtt: Option<Duration>) {
        if self.jsonl {
            let mut line = format!(
                r#"{{"type":"{kind}","base64":"{}""#,
                STANDARD.encode(payload)
            );
            if let Some(rtt) = rtt {
                let _ = write!(line, r#","rtt_ms":{:.3}"#, rtt.as_secs_f64() * 1e3);
            }
            line.push('}');
            return self.line(&line);
        }
        let mut note = format!("{kind} {}", escape_bytes(payload));
        if let Some(rtt) = rtt {
            let _ = write!(note, " (round trip {:.3} ms)", rtt.as_secs_f64() * 1e3);
        }
        self.note(&note);
    }

    /// The end: on stderr, and with `--jsonl` as the last object.
    pub(super) fn closed(&mut self, close: &CloseEvent) {
        if self.jsonl {
            self.line(&format!(
                r#"{{"type":"close","code":{},"reason":{},"clean":{}}}"#,
                u16::from(close.code),
                json(&close.reason),
                close.was_clean
            ));
        }
        eprintln!(
            "{}sockweave: closed: code {} reason {:?}",
            if self.prompt { "\r" } else { "" },
            close.code,
            close.reason
        );
    }

    /// Something said about the connection (not a message): on stderr.
    pub(super) fn note(&mut self, note: &str) {
        let back = if self.prompt { "\r" } else { "" };
        eprintln!("{back}sockweave: {note}");
    }

    fn line(&mut self, line: &str) {
        self.pending.extend_from_slice(line.as_bytes());
        self.pending.push(b'\n');
    }
}

/// `text` as a JSON string: quotes, backslashes and control characters
/// escaped (so the line is also safe on a terminal).
fn json(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines() {
        let mut out = Output::new(true, false, false, false);
        out.message(&Message::from("a \"q\" \\ \n \u{1b}[31m é"));
        out.message(&Message::from(vec![0u8, 0xff]));
        out.control("pong", b"x", Some(Duration::from_micros(1500)));
        assert_eq!(
            String::from_utf8(out.pending).unwrap(),
            "{\"type\":\"text\",\"data\":\"a \\\"q\\\" \\\\ \\n \\u001b[31m é\"}\n\
             {\"type\":\"binary\",\"base64\":\"AP8=\"}\n\
             {\"type\":\"pong\",\"base64\":\"eA==\",\"rtt_ms\":1.500}\n"
        );
    }

    #[test]
    fn plain_escaped_and_base64() {
        let mut piped = Output::new(false, false, false, false);
        piped.message(&Message::from("\u{1b}x"));
        assert_eq!(piped.pending, b"\x1bx\n");
        let mut terminal = Output::new(false, true, true, false);
        terminal.message(&Message::from("\u{1b}x"));
        terminal.message(&Message::from(vec![1u8, 2]));
        assert_eq!(terminal.pending, b"\\u{1b}x\nAQI=\n");
    }
}
