//! Just enough of RESP (the Redis protocol) for PUBLISH and SUBSCRIBE:
//! commands as arrays of bulk strings, and replies read whole from a
//! buffer, bounded in size.

/// A reply, or a pushed message, from Redis.
#[derive(Debug, PartialEq)]
pub(crate) enum Value {
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Value>),
}

/// The largest bulk string accepted (a message a client may send is
/// bounded by the WebSocket limits long before this).
const MAX_BULK: usize = 64 << 20;

/// `args` as a RESP command, appended to `out`.
pub(crate) fn command(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

/// The next whole value at the start of `input` and its length, `None`
/// while more bytes are needed; an error for bytes that are not RESP.
pub(crate) fn parse(input: &[u8]) -> Result<Option<(Value, usize)>, String> {
    let Some(end) = input.windows(2).position(|w| w == b"\r\n") else {
        return Ok(None);
    };
    let line = std::str::from_utf8(&input[1..end]).map_err(|e| e.to_string())?;
    let after = end + 2;
    let number = || line.parse::<i64>().map_err(|e| format!("{line:?}: {e}"));
    match input.first() {
        Some(b'+') => Ok(Some((Value::Simple(line.into()), after))),
        Some(b'-') => Ok(Some((Value::Error(line.into()), after))),
        Some(b':') => Ok(Some((Value::Integer(number()?), after))),
        Some(b'$') => {
            let Ok(len) = usize::try_from(number()?) else {
                return Ok(Some((Value::Bulk(None), after)));
            };
            if len > MAX_BULK {
                return Err(format!("a bulk string of {len} bytes"));
            }
            if input.len() < after + len + 2 {
                return Ok(None);
            }
            let bulk = input[after..after + len].to_vec();
            Ok(Some((Value::Bulk(Some(bulk)), after + len + 2)))
        }
        Some(b'*') => {
            let count = usize::try_from(number()?).unwrap_or(0);
            let mut items = Vec::with_capacity(count.min(16));
            let mut at = after;
            for _ in 0..count {
                match parse(&input[at..])? {
                    Some((item, used)) => {
                        items.push(item);
                        at += used;
                    }
                    None => return Ok(None),
                }
            }
            Ok(Some((Value::Array(items), at)))
        }
        _ => Err("not RESP".into()),
    }
}

#[test]
fn round_trip() {
    let mut out = Vec::new();
    command(&mut out, &[b"PUBLISH", b"chat", b"t\r\nhi"]);
    assert_eq!(
        out,
        b"*3\r\n$7\r\nPUBLISH\r\n$4\r\nchat\r\n$5\r\nt\r\nhi\r\n"
    );
    let push = b"*3\r\n$7\r\nmessage\r\n$4\r\nchat\r\n$2\r\nhi\r\n:1\r\n";
    let (value, used) = parse(push).unwrap().unwrap();
    assert_eq!(used, push.len() - 4);
    assert_eq!(
        value,
        Value::Array(vec![
            Value::Bulk(Some(b"message".to_vec())),
            Value::Bulk(Some(b"chat".to_vec())),
            Value::Bulk(Some(b"hi".to_vec())),
        ])
    );
    assert_eq!(parse(&push[..10]).unwrap(), None);
    assert_eq!(parse(b":1\r\n").unwrap(), Some((Value::Integer(1), 4)));
}
