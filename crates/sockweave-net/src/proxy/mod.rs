//! Proxies a client reaches its server through: an HTTP proxy's `CONNECT`
//! tunnel (RFC 9110 §9.3.6, with `Proxy-Authorization: Basic`) or a SOCKS5
//! proxy (RFC 1928, with user/password per RFC 1929). The handshakes are
//! sans-IO ([`Tunnel`]: bytes to write, bytes read, a verdict), so every
//! adapter runs the same rules and only moves the bytes; the WebSocket
//! handshake (and TLS for `wss://`) then runs inside the tunnel.
//!
//! [`Proxy::from_env`] reads the conventional `HTTPS_PROXY`, `HTTP_PROXY`,
//! `ALL_PROXY` and `NO_PROXY` variables, for callers that opt in.

mod http;
mod socks5;

use std::fmt;

/// Which protocol the proxy speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    /// An HTTP proxy: `CONNECT host:port` opens the tunnel.
    Http,
    /// A SOCKS5 proxy; the proxy resolves the server's name (what
    /// `socks5h://` means elsewhere; `socks5://` is taken the same way, so
    /// names never leak to the local resolver).
    Socks5,
}

/// A proxy to connect through: where it is and how to log in.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    /// The protocol.
    pub kind: ProxyKind,
    /// The proxy's host name or address.
    pub host: String,
    /// The proxy's port.
    pub port: u16,
    /// User name and password, if the proxy wants them.
    pub auth: Option<(String, String)>,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the password.
        f.debug_struct("Proxy")
            .field("kind", &self.kind)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.auth.as_ref().map(|(user, _)| user))
            .finish()
    }
}

/// Why a proxy did not open a tunnel.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy URL is not `http://`, `socks5://` or `socks5h://` with a
    /// host (and optional `user:password@` and port).
    InvalidUrl(String),
    /// The proxy wants credentials (HTTP 407; SOCKS5 offered no method we
    /// could use without them).
    AuthRequired,
    /// The proxy refused the credentials.
    AuthFailed,
    /// The proxy refused to connect: the HTTP status, or the SOCKS5 reply
    /// code (1 general failure, 2 not allowed, 3 network unreachable, 4
    /// host unreachable, 5 connection refused, 6 TTL expired, 7 command
    /// not supported, 8 address type not supported).
    Refused(u16),
    /// The proxy's answer broke its protocol (or came with bytes the
    /// server could not have sent yet).
    Malformed,
    /// A user name, password or host longer than the protocol can carry
    /// (SOCKS5: 255 bytes), or with characters a header cannot hold.
    InvalidField,
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl(url) => write!(f, "invalid proxy URL {url:?}"),
            Self::AuthRequired => f.write_str("the proxy requires authentication"),
            Self::AuthFailed => f.write_str("the proxy refused the credentials"),
            Self::Refused(code) => write!(f, "the proxy refused to connect ({code})"),
            Self::Malformed => f.write_str("the proxy's answer is malformed"),
            Self::InvalidField => {
                f.write_str("a proxy user, password or host the protocol cannot carry")
            }
        }
    }
}

impl std::error::Error for ProxyError {}

impl Proxy {
    /// Parses `http://[user:password@]host[:port]` (port 80 by default;
    /// `https://` proxies are not supported) or
    /// `socks5://[user:password@]host[:port]` (also `socks5h://`; port
    /// 1080 by default). User and password may be percent-encoded.
    pub fn parse(url: &str) -> Result<Self, ProxyError> {
        let invalid = || ProxyError::InvalidUrl(url.to_string());
        let (scheme, rest) = url.split_once("://").ok_or_else(invalid)?;
        let (kind, default_port) = match scheme.to_ascii_lowercase().as_str() {
            "http" => (ProxyKind::Http, 80),
            "socks5" | "socks5h" => (ProxyKind::Socks5, 1080),
            _ => return Err(invalid()),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let (auth, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                let decode = |s: &str| percent_decode(s).ok_or_else(invalid);
                (Some((decode(user)?, decode(password)?)), hostport)
            }
            None => (None, authority),
        };
        let (host, port) = split_host_port(hostport).ok_or_else(invalid)?;
        let port = match port {
            Some(port) => port.parse().map_err(|_| invalid())?,
            None => default_port,
        };
        if host.is_empty() {
            return Err(invalid());
        }
        Ok(Self {
            kind,
            host: host.to_string(),
            port,
            auth,
        })
    }

    /// The proxy the environment names for a `ws://` (`secure` false) or
    /// `wss://` connection to `host`: `HTTPS_PROXY` for `wss://`,
    /// `HTTP_PROXY` for `ws://`, else `ALL_PROXY` (each also in lower
    /// case), unless `NO_PROXY` lists the host (a name, a `.domain` suffix
    /// or a domain that also covers its subdomains, or `*`). `None`: no
    /// proxy; `Err`: a variable is set to something that is not a proxy.
    pub fn from_env(secure: bool, host: &str) -> Result<Option<Self>, ProxyError> {
        Self::from_vars(secure, host, |name| std::env::var(name).ok())
    }

    /// [`Proxy::from_env`] over any source of variables (for tests).
    fn from_vars(
        secure: bool,
        host: &str,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ProxyError> {
        let get = |name: &str| {
            var(name)
                .or_else(|| var(&name.to_ascii_lowercase()))
                .filter(|v| !v.trim().is_empty())
        };
        if let Some(no_proxy) = get("NO_PROXY") {
            if bypasses(&no_proxy, host) {
                return Ok(None);
            }
        }
        let scheme_var = if secure { "HTTPS_PROXY" } else { "HTTP_PROXY" };
        match get(scheme_var).or_else(|| get("ALL_PROXY")) {
            Some(url) => Self::parse(url.trim()).map(Some),
            None => Ok(None),
        }
    }

    /// The handshake that asks this proxy for a tunnel to `host:port`.
    pub fn tunnel(&self, host: &str, port: u16) -> Result<Tunnel, ProxyError> {
        Ok(Tunnel {
            inner: match self.kind {
                ProxyKind::Http => Inner::Http(http::Connect::new(self, host, port)?),
                ProxyKind::Socks5 => Inner::Socks5(socks5::Connect::new(self, host, port)?),
            },
        })
    }
}

/// A proxy handshake in progress, sans-IO: write what
/// [`Tunnel::transmit`] gives, feed what is read to [`Tunnel::receive`],
/// until it says the tunnel is open. Then the stream carries the server's
/// bytes.
#[derive(Debug)]
pub struct Tunnel {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Http(http::Connect),
    Socks5(socks5::Connect),
}

impl Tunnel {
    /// Bytes to write now (empty while waiting for the proxy).
    pub fn transmit(&mut self) -> Vec<u8> {
        match &mut self.inner {
            Inner::Http(connect) => connect.transmit(),
            Inner::Socks5(connect) => connect.transmit(),
        }
    }

    /// Feeds bytes read from the proxy (appended to `input`; what is used
    /// is taken out). `Ok(true)`: the tunnel is open. `Ok(false)`: write
    /// [`Tunnel::transmit`], then read more. Bytes past the proxy's last
    /// answer are an error: the server cannot speak before the client's
    /// WebSocket or TLS handshake.
    pub fn receive(&mut self, input: &mut Vec<u8>) -> Result<bool, ProxyError> {
        let open = match &mut self.inner {
            Inner::Http(connect) => connect.receive(input)?,
            Inner::Socks5(connect) => connect.receive(input)?,
        };
        if open && !input.is_empty() {
            return Err(ProxyError::Malformed);
        }
        Ok(open)
    }

    /// The most bytes the handshake reads before its answer must be
    /// complete: a host longer than that is refused as malformed.
    pub const MAX_ANSWER: usize = 16 << 10;
}

/// `host[:port]`, `[v6]:port` or `[v6]`.
fn split_host_port(hostport: &str) -> Option<(&str, Option<&str>)> {
    if let Some(rest) = hostport.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after {
            "" => Some((host, None)),
            _ => Some((host, Some(after.strip_prefix(':')?))),
        };
    }
    Some(match hostport.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (hostport, None),
    })
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Whether `NO_PROXY` (comma- or space-separated) covers `host`.
fn bypasses(no_proxy: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    no_proxy
        .split([',', ' '])
        .map(|entry| entry.trim().to_ascii_lowercase())
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            // A port in the entry is not matched on: hosts are.
            let entry = split_host_port(&entry).map_or(entry.as_str(), |(h, _)| h);
            let domain = entry.trim_start_matches('.');
            host == domain || host.ends_with(&format!(".{domain}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let proxy = Proxy::parse("http://proxy.example:3128").unwrap();
        assert_eq!(
            (proxy.kind, proxy.host.as_str(), proxy.port, proxy.auth),
            (ProxyKind::Http, "proxy.example", 3128, None)
        );
        let proxy = Proxy::parse("socks5h://al%40ice:p%3Ass@[::1]/").unwrap();
        assert_eq!(proxy.kind, ProxyKind::Socks5);
        assert_eq!((proxy.host.as_str(), proxy.port), ("::1", 1080));
        assert_eq!(proxy.auth, Some(("al@ice".into(), "p:ss".into())));
        assert!(
            !format!("{proxy:?}").contains("p:ss"),
            "no password in Debug"
        );
        assert_eq!(Proxy::parse("http://h").unwrap().port, 80);
        for bad in [
            "https://h:1",
            "ftp://h",
            "h:3128",
            "http://:1",
            "http://h:x",
            "http://a%zz@h",
        ] {
            assert!(
                matches!(Proxy::parse(bad), Err(ProxyError::InvalidUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn environment() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let vars = env(&[
            ("HTTP_PROXY", "http://plain:8080"),
            ("https_proxy", "http://secure:8443"),
            ("ALL_PROXY", "socks5://all:1080"),
            ("NO_PROXY", "localhost, .internal.example,example.org:443"),
        ]);
        let host = |secure, host| {
            Proxy::from_vars(secure, host, vars)
                .unwrap()
                .map(|p| p.host)
        };
        assert_eq!(host(false, "a.example").as_deref(), Some("plain"));
        assert_eq!(host(true, "a.example").as_deref(), Some("secure"));
        assert_eq!(host(true, "localhost"), None);
        assert_eq!(host(true, "db.internal.example"), None);
        assert_eq!(host(true, "internal.example"), None);
        assert_eq!(host(true, "www.example.org"), None);
        assert_eq!(host(true, "notexample.org").as_deref(), Some("secure"));
        let vars = env(&[("ALL_PROXY", "socks5://all:1080"), ("no_proxy", "*")]);
        assert_eq!(Proxy::from_vars(false, "x", vars).unwrap(), None);
        let vars = env(&[("ALL_PROXY", "socks5://all:1080")]);
        let proxy = Proxy::from_vars(false, "x", vars).unwrap().unwrap();
        assert_eq!(proxy.kind, ProxyKind::Socks5);
        let vars = env(&[("HTTP_PROXY", "nonsense")]);
        assert!(Proxy::from_vars(false, "x", vars).is_err());
    }
}
