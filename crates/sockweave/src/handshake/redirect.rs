//! Following a redirect from an opening handshake (301, 302, 303, 307,
//! 308): the next request, or why not. Opt-in: a client follows only as
//! many as [`ClientRequest::follow_redirects`] allows (browsers follow
//! none; command-line clients usually do).

use super::client::ClientRequest;
use super::{Header, UrlError};
use alloc::format;
use core::fmt;

/// Why a redirect is not followed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedirectError {
    /// The status is not 301, 302, 303, 307 or 308.
    NotARedirect(u16),
    /// The redirect has no usable `Location` header.
    NoLocation,
    /// The `Location` is not a URL we can connect to.
    Location(UrlError),
    /// From `wss://` to `ws://` (or `https://` to `http://`): the rest of
    /// the conversation would leave TLS.
    Downgrade,
    /// More redirects than [`ClientRequest::follow_redirects`] allows.
    TooMany(u8),
}

impl fmt::Display for RedirectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotARedirect(status) => write!(f, "status {status} is not a redirect"),
            Self::NoLocation => f.write_str("redirect without a usable Location"),
            Self::Location(e) => write!(f, "redirect to an unusable URL: {e}"),
            Self::Downgrade => f.write_str("redirect from wss:// to ws:// refused"),
            Self::TooMany(max) => write!(f, "more than {max} redirects"),
        }
    }
}

impl core::error::Error for RedirectError {}

impl ClientRequest {
    /// Follows up to `max` redirects when connecting (0, the default:
    /// none; a redirect is then a [`super::HandshakeError::Status`]).
    pub fn follow_redirects(mut self, max: u8) -> Self {
        self.redirects = max;
        self
    }

    /// The request a redirect asks for: `status` with its `headers`'
    /// `Location` (absolute `ws`, `wss`, `http` or `https` URL, `//host…`
    /// or a path), resolved against this request. Subprotocols, extension
    /// offers and headers carry over, except `Authorization`, `Cookie` and
    /// a `Host` override when the origin (scheme, host, port) changes;
    /// `wss://` to `ws://` is refused. The new request may follow one
    /// redirect fewer.
    pub fn redirected(&self, status: u16, headers: &[Header]) -> Result<Self, RedirectError> {
        if !matches!(status, 301 | 302 | 303 | 307 | 308) {
            return Err(RedirectError::NotARedirect(status));
        }
        if self.redirects == 0 {
            return Err(RedirectError::TooMany(0));
        }
        let location = headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("location"))
            .and_then(|h| core::str::from_utf8(&h.value).ok())
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .ok_or(RedirectError::NoLocation)?;
        let scheme = if self.secure { "wss" } else { "ws" };
        let url = match location.split_once("://") {
            Some((given, rest)) => {
                let scheme = match given.to_ascii_lowercase().as_str() {
                    "ws" | "http" => "ws",
                    "wss" | "https" => "wss",
                    _ => return Err(RedirectError::Location(UrlError::Scheme)),
                };
                format!("{scheme}://{rest}")
            }
            None if location.starts_with("//") => format!("{scheme}:{location}"),
            None if location.starts_with('/') => {
                format!("{scheme}://{}{location}", self.host_header())
            }
            None => {
                // Relative to the current path's last segment.
                let path = self.path.split('?').next().unwrap_or("/");
                let base = &path[..path.rfind('/').map_or(0, |i| i + 1)];
                format!("{scheme}://{}{base}{location}", self.host_header())
            }
        };
        let mut next = ClientRequest::new(&url).map_err(RedirectError::Location)?;
        if self.secure && !next.secure {
            return Err(RedirectError::Downgrade);
        }
        let same_origin =
            self.secure == next.secure && self.host == next.host && self.port == next.port;
        next.protocols = self.protocols.clone();
        next.extensions = self.extensions.clone();
        next.headers = self
            .headers
            .iter()
            .filter(|(name, _)| same_origin || !is_origin_bound(name))
            .cloned()
            .collect();
        next.redirects = self.redirects - 1;
        Ok(next)
    }
}

/// Headers that belong to one origin: credentials, and a `Host` override.
fn is_origin_bound(name: &str) -> bool {
    ["authorization", "cookie", "host"]
        .iter()
        .any(|bound| name.eq_ignore_ascii_case(bound))
}

/// For the tests: a response head's headers.
#[cfg(test)]
fn location(value: &str) -> alloc::vec::Vec<Header> {
    alloc::vec![Header {
        name: "Location".into(),
        value: value.as_bytes().to_vec(),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    fn request(url: &str) -> ClientRequest {
        ClientRequest::new(url)
            .unwrap()
            .protocol("chat")
            .header("Authorization", "Bearer t")
            .header("Cookie", "a=b")
            .header("Origin", "https://app.example")
            .follow_redirects(5)
    }

    fn url(r: &ClientRequest) -> String {
        format!(
            "{}://{}{}",
            if r.secure { "wss" } else { "ws" },
            r.host_header(),
            r.path
        )
    }

    #[test]
    fn locations_resolve_against_the_request() {
        let r = request("wss://a.example/x/chat?room=1");
        let to = |l: &str| url(&r.redirected(301, &location(l)).unwrap());
        assert_eq!(to("wss://b.example:8443/ws"), "wss://b.example:8443/ws");
        assert_eq!(to("https://b.example/ws"), "wss://b.example/ws");
        assert_eq!(to("//b.example/ws"), "wss://b.example/ws");
        assert_eq!(to("/other?q"), "wss://a.example/other?q");
        assert_eq!(to("next"), "wss://a.example/x/next");
        for status in [302, 303, 307, 308] {
            assert!(r.redirected(status, &location("/y")).is_ok());
        }
    }

    #[test]
    fn credentials_stay_with_their_origin() {
        let r = request("wss://a.example/").header("Host", "alias.example");
        let same = r.redirected(307, &location("/elsewhere")).unwrap();
        assert_eq!(same.headers.len(), 4, "same origin: everything kept");
        assert_eq!(same.protocols, ["chat"]);
        assert_eq!(same.redirects, 4);
        let other = r.redirected(307, &location("wss://b.example/")).unwrap();
        let names: alloc::vec::Vec<&str> = other.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["Origin"], "credentials and Host dropped");
        // Another port is another origin.
        let port = r
            .redirected(307, &location("wss://a.example:444/"))
            .unwrap();
        assert_eq!(port.headers.len(), 1);
    }

    #[test]
    fn refusals() {
        let r = request("wss://a.example/");
        let fail = |status, l: &str| r.redirected(status, &location(l)).unwrap_err();
        assert_eq!(fail(301, "ws://a.example/"), RedirectError::Downgrade);
        assert_eq!(fail(301, "http://a.example/"), RedirectError::Downgrade);
        assert_eq!(fail(200, "/x"), RedirectError::NotARedirect(200));
        assert_eq!(
            fail(301, "ftp://x/"),
            RedirectError::Location(UrlError::Scheme)
        );
        assert_eq!(
            fail(301, "wss://a.example/#frag"),
            RedirectError::Location(UrlError::Fragment)
        );
        assert_eq!(r.redirected(301, &[]), Err(RedirectError::NoLocation));
        let none = ClientRequest::new("wss://a.example/").unwrap();
        assert_eq!(
            none.redirected(301, &location("/x")),
            Err(RedirectError::TooMany(0))
        );
        // ws:// to wss:// is an upgrade, not a downgrade.
        let plain = request("ws://a.example/");
        assert!(
            plain
                .redirected(301, &location("wss://a.example/"))
                .unwrap()
                .secure
        );
    }
}
