//! What the server sends is shown on a terminal, never run: control
//! characters start escape sequences (colours, titles, cursor moves, and
//! in some terminals worse), so they are written escaped. Output to a pipe
//! or a file stays byte for byte.

use std::borrow::Cow;
use std::fmt::Write;

/// `text` with every control character but tab escaped: `\n`, `\r`, and
/// `\u{1b}` for the rest (C0, DEL and C1 alike).
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `bytes` for a terminal: UTF-8 as [`escape`] shows it, other bytes as
/// `\xNN`.
pub(crate) fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(&escape(chunk.valid()));
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control() && c != '\t'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_run() {
        assert_eq!(escape("plain κόσμε\ttab"), "plain κόσμε\ttab");
        assert_eq!(
            escape("\x1b[31mred\x1b[0m\r\n\u{9b}2J\x7f"),
            r"\u{1b}[31mred\u{1b}[0m\r\n\u{9b}2J\u{7f}"
        );
        assert_eq!(escape_bytes(b"ok\x1b\xff\xfe!"), r"ok\u{1b}\xff\xfe!");
    }
}
