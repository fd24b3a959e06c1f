//! The server's accept/reject decision under an Origin and subprotocol
//! policy built from the input, for any request. Never panics; whatever
//! is accepted obeys the policy, judged from the raw request bytes (not
//! the core's own parse): a repeated `Origin` is refused, a required one
//! present, an Origin outside the allow-list (and not same-host when that
//! is on) refused, and the subprotocol chosen is one the client offered
//! and the policy lists.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockweave::{BytesMut, Config, Connection, Event, Instant, ServerPolicy};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.splitn(3, |&b| b == 0);
    let (Some(origins), Some(protocols), Some(request)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let list = |bytes: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(bytes)
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let mut policy = ServerPolicy::default();
    policy.require_origin = flags & 1 != 0;
    policy.same_host_origin = flags & 2 != 0;
    policy.allowed_origins = (flags & 4 != 0).then(|| list(origins));
    policy.protocols = list(protocols);
    let mut conn = Connection::server(policy.clone(), Config::default(), Instant::ZERO).unwrap();
    let mut input = BytesMut::from(request);
    conn.receive(&mut input, Instant::ZERO);
    let mut accepted = None;
    while let Some(event) = conn.poll_event_from(&mut input, Instant::ZERO) {
        if let Event::Open(open) = event {
            accepted = Some(open.protocol);
        }
    }
    let mut out = Vec::new();
    conn.poll_transmit(&mut out);
    let Some(protocol) = accepted else { return };
    assert!(out.starts_with(b"HTTP/1.1 101 "), "accepted with a 101");

    let Some(headers) = raw_headers(request) else {
        return;
    };
    let values = |name: &str| -> Vec<&str> {
        headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let origins = values("origin");
    assert!(
        origins.len() <= 1,
        "accepted with {} Origin headers",
        origins.len()
    );
    if policy.require_origin {
        assert_eq!(origins.len(), 1, "accepted without the required Origin");
    }
    if let [origin] = origins[..] {
        if policy.allowed_origins.is_some() || policy.same_host_origin {
            let listed = policy
                .allowed_origins
                .iter()
                .flatten()
                .any(|a| a.eq_ignore_ascii_case(origin));
            let host = values("host").first().copied().unwrap_or("");
            let same = policy.same_host_origin && same_host(origin, host);
            assert!(
                listed || same,
                "accepted Origin {origin:?} outside the policy"
            );
        }
    }
    if let Some(chosen) = protocol {
        assert!(
            policy.protocols.contains(&chosen),
            "chose {chosen:?}, not ours"
        );
        let offered: Vec<&str> = values("sec-websocket-protocol")
            .iter()
            .flat_map(|v| v.split(','))
            .map(|t| t.trim_matches([' ', '\t']))
            .collect();
        assert!(
            offered.contains(&chosen.as_str()),
            "chose {chosen:?}, not offered"
        );
    }
});

/// The header fields of a request head, by a plain reading of RFC 9112
/// (`None` for anything unusual: the property is then not judged).
fn raw_headers(request: &[u8]) -> Option<Vec<(String, String)>> {
    let end = request.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&request[..end]).ok()?;
    let mut lines = head.split("\r\n");
    lines.next()?;
    lines
        .map(|line| {
            if line.starts_with([' ', '\t']) {
                return None;
            }
            let (name, value) = line.split_once(':')?;
            Some((name.to_owned(), value.trim_matches([' ', '\t']).to_owned()))
        })
        .collect()
}

/// Whether `origin` is `scheme://` + the request's host, default ports
/// written or not.
fn same_host(origin: &str, host: &str) -> bool {
    let origin = origin.to_ascii_lowercase();
    let host = host.to_ascii_lowercase();
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let default = match scheme {
        "http" | "ws" => ":80",
        "https" | "wss" => ":443",
        _ => return false,
    };
    let bare = |a: &str| a.strip_suffix(default).unwrap_or(a).to_owned();
    !authority.is_empty() && bare(authority) == bare(&host)
}
