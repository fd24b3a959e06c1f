//! Between `http` types and the core's: no rule lives here, only the
//! copying of fields from one shape to the other.

use crate::server::Response;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http_body_util::Full;
use sockweave::handshake::{Header, HttpVersion, Reject, RequestHead, ResponseHead};

/// The core's view of a request head hyper parsed.
pub(crate) fn request_head(parts: &http::request::Parts) -> RequestHead<'_> {
    let version = match parts.version {
        http::Version::HTTP_11 => HttpVersion::Http11,
        http::Version::HTTP_2 => HttpVersion::Http2,
        http::Version::HTTP_3 => HttpVersion::Http3,
        _ => HttpVersion::Http10,
    };
    let extended_connect = version.is_extended_connect();
    RequestHead {
        method: parts.method.as_str(),
        version,
        protocol: parts
            .extensions
            .get::<hyper::ext::Protocol>()
            .map(hyper::ext::Protocol::as_str),
        target: parts
            .uri
            .path_and_query()
            .map_or("/", http::uri::PathAndQuery::as_str),
        // HTTP/2's :authority lands in the URI; an HTTP/1.1 request names
        // its host in `Host`, as our own reader reads it.
        authority: parts
            .uri
            .authority()
            .filter(|_| extended_connect)
            .map(http::uri::Authority::as_str),
        headers: headers_of(&parts.headers),
    }
}

/// Header fields in the core's form.
pub(crate) fn headers_of(headers: &http::HeaderMap) -> Vec<Header> {
    headers
        .iter()
        .map(|(name, value)| Header {
            name: name.as_str().into(),
            value: value.as_bytes().to_vec(),
        })
        .collect()
}

/// An accepting response head as an `http::Response`.
pub(crate) fn into_response(head: &impl Head) -> Response {
    let mut response = http::Response::new(Full::new(Bytes::from(head.body().to_vec())));
    *response.status_mut() = http::StatusCode::from_u16(head.status())
        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in head.headers() {
        // Checked by the core to RFC 9110's rules, which `http` applies
        // too: nothing is left out here.
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            (Ok(name), Ok(value)) => {
                headers.append(name, value);
            }
            _ => debug_assert!(false, "a header the core checked: {name}"),
        }
    }
    response
}

/// A response head from the core: an acceptance or a refusal.
pub(crate) trait Head {
    fn status(&self) -> u16;
    fn headers(&self) -> &[(String, String)];
    fn body(&self) -> &[u8];
}

impl Head for ResponseHead {
    fn status(&self) -> u16 {
        self.status
    }
    fn headers(&self) -> &[(String, String)] {
        &self.headers
    }
    fn body(&self) -> &[u8] {
        &[]
    }
}

impl Head for Reject {
    fn status(&self) -> u16 {
        self.status
    }
    fn headers(&self) -> &[(String, String)] {
        &self.headers
    }
    fn body(&self) -> &[u8] {
        &self.body
    }
}
