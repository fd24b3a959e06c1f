//! What a line typed at the interactive prompt means: a message, or a
//! slash command.

use sockweave::{CloseCode, Message};

/// One line of interactive input.
#[derive(Debug, PartialEq)]
pub(super) enum Input {
    Send(Message),
    Ping(Vec<u8>),
    Close(CloseCode, String),
    Quit,
    Help,
    /// Not understood; the text says why.
    Invalid(String),
}

pub(super) const HELP: &str = "\
/ping [payload]        send a ping (the pong shows its round trip)
/close [code] [reason] close (1000, or 3000-4999) and wait for the reply
/binary <hex|base64>   send a binary message (hex when it is only hex digits)
/quit                  close and exit (as Ctrl-C or Ctrl-D)
//text                 send a text message that starts with /";

/// A typed line: text, or a command when it starts with `/` (`//` sends
/// one `/`).
pub(super) fn parse(line: &str) -> Input {
    let Some(command) = line.strip_prefix('/') else {
        return Input::Send(Message::from(line));
    };
    if command.starts_with('/') {
        return Input::Send(Message::from(command));
    }
    let (name, rest) = command.split_once(' ').unwrap_or((command, ""));
    match name {
        "ping" => Input::Ping(rest.as_bytes().to_vec()),
        "close" => {
            let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
            match code {
                "" => Input::Close(CloseCode::NORMAL, String::new()),
                code => match close_code(code) {
                    Ok(code) if reason.len() <= sockweave::MAX_REASON_LEN => {
                        Input::Close(code, reason.to_owned())
                    }
                    Ok(_) => Input::Invalid("the reason is over 123 bytes".into()),
                    Err(e) => Input::Invalid(e),
                },
            }
        }
        "binary" => match decode(rest.trim()) {
            Some(bytes) => Input::Send(Message::from(bytes)),
            None => Input::Invalid("expected hex digits or base64".into()),
        },
        "quit" | "exit" => Input::Quit,
        "help" | "?" => Input::Help,
        _ => Input::Invalid(format!("unknown command /{name} (/help lists them)")),
    }
}

/// A close code a client may send by choice: 1000, or an application's
/// (3000 to 4999).
pub(super) fn close_code(value: &str) -> Result<CloseCode, String> {
    match value.parse::<u16>() {
        Ok(code @ (1000 | 3000..=4999)) => Ok(CloseCode::from(code)),
        _ => Err("a close code must be 1000 or 3000 to 4999".into()),
    }
}

/// Hex (only hex digits, spaces allowed, an even count) or else base64.
fn decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let digits: String = text.chars().filter(|c| *c != ' ').collect();
    if !digits.is_empty() && digits.len() % 2 == 0 && digits.chars().all(|c| c.is_ascii_hexdigit())
    {
        return (0..digits.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).ok())
            .collect();
    }
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()
        .filter(|bytes| !bytes.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_commands() {
        assert_eq!(parse("hello"), Input::Send(Message::from("hello")));
        assert_eq!(parse("//etc"), Input::Send(Message::from("/etc")));
        assert_eq!(parse("/ping"), Input::Ping(Vec::new()));
        assert_eq!(parse("/ping abc"), Input::Ping(b"abc".to_vec()));
        assert_eq!(
            parse("/close"),
            Input::Close(CloseCode::NORMAL, String::new())
        );
        assert_eq!(
            parse("/close 4000 see you"),
            Input::Close(CloseCode::from(4000), "see you".into())
        );
        assert!(matches!(parse("/close 1006"), Input::Invalid(_)));
        assert_eq!(
            parse("/binary 00ff 10"),
            Input::Send(Message::from(vec![0, 0xff, 0x10]))
        );
        assert_eq!(
            parse("/binary AAH/"),
            Input::Send(Message::from(vec![0, 1, 0xff]))
        );
        assert!(matches!(parse("/binary !"), Input::Invalid(_)));
        assert_eq!(parse("/quit"), Input::Quit);
        assert!(matches!(parse("/nope"), Input::Invalid(_)));
    }
}
