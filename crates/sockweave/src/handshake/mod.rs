//! The HTTP/1.1 opening handshake (RFC 6455 §4), client and server, each
//! its own sans-IO machine.
//!
//! Both read the HTTP head incrementally: they look for the blank line that
//! ends it from where the previous call stopped, and parse once it is all
//! there, so a head trickling in byte by byte costs linear time (parsing
//! the whole buffer again on each read was tungstenite's CVE-2023-43669).
//! Both leave the bytes after the head in the caller's buffer: frames that
//! arrive in the same read as the head are never lost.

mod accept_key;
mod client;
mod error;
mod field;
mod head;
mod origin;
mod redirect;
mod request;
mod server;

pub use accept_key::{ACCEPT_LEN, accept_key, is_valid_key, new_key};
pub use client::{ClientHandshake, ClientRequest, ConnectRequest, Response, UrlError};
pub use error::HandshakeError;
pub use field::InvalidField;
pub(crate) use field::is_token;
pub use redirect::RedirectError;
pub use request::{HttpVersion, Request, RequestHead, ResponseHead};
pub use server::{Accept, Reject, ServerHandshake, ServerPolicy};

/// Most subprotocols, and most extension offers, one request may carry
/// (400 past it, [`HandshakeError::TooManyOffers`]). Browsers offer a few;
/// the cap keeps what a request costs to read and to hold in proportion
/// to what any client needs, before any authentication runs.
pub const MAX_OFFERS: usize = 64;

/// One HTTP header, as received or to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Field name, as sent.
    pub name: alloc::string::String,
    /// Field value, as sent (not necessarily UTF-8).
    pub value: alloc::vec::Vec<u8>,
}

/// Values of every header called `name` (case-insensitive), split on
/// commas and trimmed: the list form of RFC 9110 §5.6.1.
pub(crate) fn list_values<'a>(
    headers: &'a [Header],
    name: &'a str,
) -> impl Iterator<Item = &'a [u8]> + 'a {
    headers
        .iter()
        .filter(move |h| h.name.eq_ignore_ascii_case(name))
        .flat_map(|h| h.value.split(|&b| b == b','))
        .map(trim)
        .filter(|v| !v.is_empty())
}

/// Whether a list-valued header contains `token`, case-insensitively.
pub(crate) fn has_token(headers: &[Header], name: &str, token: &str) -> bool {
    list_values(headers, name).any(|v| v.eq_ignore_ascii_case(token.as_bytes()))
}

/// The single value of header `name`; `Err` if it appears more than once.
pub(crate) fn single_value<'a>(headers: &'a [Header], name: &str) -> Result<Option<&'a [u8]>, ()> {
    let mut found = headers.iter().filter(|h| h.name.eq_ignore_ascii_case(name));
    let first = found.next().map(|h| trim(&h.value));
    if found.next().is_some() {
        Err(())
    } else {
        Ok(first)
    }
}

pub(crate) fn trim(value: &[u8]) -> &[u8] {
    let start = value
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &value[start..end]
}

fn owned_headers(parsed: &[httparse::Header<'_>]) -> alloc::vec::Vec<Header> {
    parsed
        .iter()
        .map(|h| Header {
            name: h.name.into(),
            value: h.value.to_vec(),
        })
        .collect()
}

fn write_header(out: &mut alloc::vec::Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}
