//! An HTTP proxy's tunnel: `CONNECT host:port` (RFC 9110 §9.3.6), with
//! `Proxy-Authorization: Basic` (RFC 7617) when credentials are given; any
//! 2xx opens the tunnel.

use super::{Proxy, ProxyError, Tunnel};
use base64::Engine;

#[derive(Debug)]
pub(super) struct Connect {
    request: Vec<u8>,
    with_credentials: bool,
}

impl Connect {
    pub(super) fn new(proxy: &Proxy, host: &str, port: u16) -> Result<Self, ProxyError> {
        let clean = |s: &str| !s.bytes().any(|b| b.is_ascii_control() || b == b' ');
        if host.is_empty() || !clean(host) {
            return Err(ProxyError::InvalidField);
        }
        let authority = match host.contains(':') {
            true => format!("[{host}]:{port}"),
            false => format!("{host}:{port}"),
        };
        let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
        if let Some((user, password)) = &proxy.auth {
            // A user id cannot hold ':' (RFC 7617 §2), and neither can
            // hold a control character.
            if user.contains(':') || !clean(user) || password.bytes().any(|b| b.is_ascii_control())
            {
                return Err(ProxyError::InvalidField);
            }
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            request.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
        }
        request.push_str("\r\n");
        Ok(Self {
            request: request.into_bytes(),
            with_credentials: proxy.auth.is_some(),
        })
    }

    pub(super) fn transmit(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.request)
    }

    pub(super) fn receive(&mut self, input: &mut Vec<u8>) -> Result<bool, ProxyError> {
        let Some(end) = input.windows(4).position(|w| w == b"\r\n\r\n") else {
            if input.len() > Tunnel::MAX_ANSWER {
                return Err(ProxyError::Malformed);
            }
            return Ok(false);
        };
        let head_len = end + 4;
        let mut slots = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut slots);
        let status = match response.parse(&input[..head_len]) {
            Ok(httparse::Status::Complete(_)) => response.code.ok_or(ProxyError::Malformed)?,
            _ => return Err(ProxyError::Malformed),
        };
        input.drain(..head_len);
        match status {
            200..=299 => Ok(true),
            // 407 is the proxy's status; some (tinyproxy) answer wrong
            // credentials with 401.
            401 | 407 if self.with_credentials => Err(ProxyError::AuthFailed),
            407 => Err(ProxyError::AuthRequired),
            other => Err(ProxyError::Refused(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Proxy;
    use super::*;

    fn tunnel(url: &str, host: &str) -> Tunnel {
        Proxy::parse(url).unwrap().tunnel(host, 443).unwrap()
    }

    #[test]
    fn connect_request_and_answers() {
        let mut t = tunnel("http://alice:s3cret@p:3128", "echo.example");
        assert_eq!(
            String::from_utf8(t.transmit()).unwrap(),
            "CONNECT echo.example:443 HTTP/1.1\r\nHost: echo.example:443\r\n\
             Proxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n\r\n"
        );
        assert!(t.transmit().is_empty());
        let mut input = b"HTTP/1.1 200 Connection established\r\n".to_vec();
        assert_eq!(t.receive(&mut input), Ok(false));
        input.extend_from_slice(b"Proxy-Agent: x\r\n\r\n");
        assert_eq!(t.receive(&mut input), Ok(true));
        assert!(input.is_empty());
        let mut t = tunnel("http://p", "::1");
        assert!(
            String::from_utf8(t.transmit())
                .unwrap()
                .starts_with("CONNECT [::1]:443 ")
        );
        for (answer, error) in [
            (
                &b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"[..],
                ProxyError::AuthRequired,
            ),
            (b"HTTP/1.1 403 Forbidden\r\n\r\n", ProxyError::Refused(403)),
            (b"HTTP/1.1 200 OK\r\n\r\nearly", ProxyError::Malformed),
            (b"SSH-2.0-OpenSSH\r\n\r\n", ProxyError::Malformed),
        ] {
            let mut t = tunnel("http://p", "h");
            t.transmit();
            assert_eq!(t.receive(&mut answer.to_vec()), Err(error));
        }
        let mut t = tunnel("http://a:b@p", "h");
        let mut answer = b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n".to_vec();
        assert_eq!(t.receive(&mut answer), Err(ProxyError::AuthFailed));
        // An answer that never ends is refused at the limit, not buffered.
        let mut t = tunnel("http://p", "h");
        let mut endless = vec![b'a'; Tunnel::MAX_ANSWER + 1];
        assert_eq!(t.receive(&mut endless), Err(ProxyError::Malformed));
        // Header injection through the host or the user is refused.
        let proxy = Proxy::parse("http://p").unwrap();
        assert!(proxy.tunnel("h\r\nX: y", 1).is_err());
        let mut proxy = proxy;
        proxy.auth = Some(("a\r\nX".into(), "b".into()));
        assert!(proxy.tunnel("h", 1).is_err());
    }
}
