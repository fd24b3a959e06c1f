//! A SOCKS5 tunnel (RFC 1928): greeting, optional user/password login
//! (RFC 1929), then `CONNECT` to the server by name (the proxy resolves
//! it) or by address.

use super::{Proxy, ProxyError};
use std::net::IpAddr;

const VERSION: u8 = 5;
const NO_AUTH: u8 = 0;
const USER_PASSWORD: u8 = 2;
const NO_ACCEPTABLE: u8 = 0xff;

#[derive(Debug)]
pub(super) struct Connect {
    state: State,
    out: Vec<u8>,
    login: Option<Vec<u8>>,
    request: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The greeting is out; waiting for the chosen method.
    Method,
    /// The login is out; waiting for its verdict.
    Login,
    /// The CONNECT is out; waiting for the reply.
    Reply,
}

impl Connect {
    pub(super) fn new(proxy: &Proxy, host: &str, port: u16) -> Result<Self, ProxyError> {
        let mut request = vec![VERSION, 1, 0];
        match host.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) => {
                request.push(1);
                request.extend_from_slice(&ip.octets());
            }
            Ok(IpAddr::V6(ip)) => {
                request.push(4);
                request.extend_from_slice(&ip.octets());
            }
            Err(_) => {
                let len = u8::try_from(host.len()).map_err(|_| ProxyError::InvalidField)?;
                if len == 0 {
                    return Err(ProxyError::InvalidField);
                }
                request.push(3);
                request.push(len);
                request.extend_from_slice(host.as_bytes());
            }
        }
        request.extend_from_slice(&port.to_be_bytes());
        let login = match &proxy.auth {
            Some((user, password)) => {
                let field = |s: &str| u8::try_from(s.len()).map_err(|_| ProxyError::InvalidField);
                let mut login = vec![1, field(user)?];
                login.extend_from_slice(user.as_bytes());
                login.push(field(password)?);
                login.extend_from_slice(password.as_bytes());
                Some(login)
            }
            None => None,
        };
        let out = match login {
            Some(_) => vec![VERSION, 2, NO_AUTH, USER_PASSWORD],
            None => vec![VERSION, 1, NO_AUTH],
        };
        Ok(Self {
            state: State::Method,
            out,
            login,
            request,
        })
    }

    pub(super) fn transmit(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    pub(super) fn receive(&mut self, input: &mut Vec<u8>) -> Result<bool, ProxyError> {
        loop {
            match self.state {
                State::Method => {
                    let Some(&[version, method]) = input.get(..2) else {
                        return Ok(false);
                    };
                    input.drain(..2);
                    if version != VERSION {
                        return Err(ProxyError::Malformed);
                    }
                    match (method, self.login.take()) {
                        (NO_AUTH, _) => self.send_request(),
                        (USER_PASSWORD, Some(login)) => {
                            self.out.extend_from_slice(&login);
                            self.state = State::Login;
                        }
                        (NO_ACCEPTABLE | USER_PASSWORD, None) => {
                            return Err(ProxyError::AuthRequired);
                        }
                        (NO_ACCEPTABLE, Some(_)) => return Err(ProxyError::AuthFailed),
                        _ => return Err(ProxyError::Malformed),
                    }
                }
                State::Login => {
                    let Some(&[_, status]) = input.get(..2) else {
                        return Ok(false);
                    };
                    input.drain(..2);
                    if status != 0 {
                        return Err(ProxyError::AuthFailed);
                    }
                    self.send_request();
                }
                State::Reply => {
                    let Some(&[version, reply, _, kind]) = input.get(..4) else {
                        return Ok(false);
                    };
                    if version != VERSION {
                        return Err(ProxyError::Malformed);
                    }
                    if reply != 0 {
                        return Err(ProxyError::Refused(u16::from(reply)));
                    }
                    let address = match kind {
                        1 => 4,
                        4 => 16,
                        3 => match input.get(4) {
                            Some(&len) => 1 + usize::from(len),
                            None => return Ok(false),
                        },
                        _ => return Err(ProxyError::Malformed),
                    };
                    let len = 4 + address + 2;
                    if input.len() < len {
                        return Ok(false);
                    }
                    input.drain(..len);
                    return Ok(true);
                }
            }
        }
    }

    fn send_request(&mut self) {
        self.out.extend_from_slice(&self.request);
        self.state = State::Reply;
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Proxy, ProxyError, Tunnel};

    fn tunnel(url: &str, host: &str) -> Tunnel {
        Proxy::parse(url).unwrap().tunnel(host, 9001).unwrap()
    }

    /// Feeds `answer` one byte at a time; returns the verdict and every
    /// byte the client wrote.
    fn run(t: &mut Tunnel, answer: &[u8]) -> (Result<bool, ProxyError>, Vec<u8>) {
        let mut wrote = t.transmit();
        let mut input = Vec::new();
        for &b in answer {
            input.push(b);
            match t.receive(&mut input) {
                Ok(false) => wrote.extend(t.transmit()),
                other => return (other, wrote),
            }
        }
        (Ok(false), wrote)
    }

    #[test]
    fn by_name_without_login() {
        let mut t = tunnel("socks5://p", "echo.example");
        let answer = [5, 0, 5, 0, 0, 3, 4, b'h', b'o', b's', b't', 0x23, 0x29];
        let (verdict, wrote) = run(&mut t, &answer);
        assert_eq!(verdict, Ok(true));
        let mut expected = vec![5, 1, 0, 5, 1, 0, 3, 12];
        expected.extend_from_slice(b"echo.example");
        expected.extend_from_slice(&[0x23, 0x29]);
        assert_eq!(wrote, expected);
    }

    #[test]
    fn with_login_and_an_address() {
        let mut t = tunnel("socks5://al:pw@p", "127.0.0.1");
        let answer = [5, 2, 1, 0, 5, 0, 0, 1, 127, 0, 0, 1, 0x23, 0x29];
        let (verdict, wrote) = run(&mut t, &answer);
        assert_eq!(verdict, Ok(true));
        assert_eq!(
            wrote,
            [
                5, 2, 0, 2, // greeting: no auth, user/password
                1, 2, b'a', b'l', 2, b'p', b'w', // login
                5, 1, 0, 1, 127, 0, 0, 1, 0x23, 0x29, // CONNECT 127.0.0.1:9001
            ]
        );
    }

    #[test]
    fn refusals() {
        let cases: [(&str, &[u8], ProxyError); 5] = [
            ("socks5://p", &[5, 0xff], ProxyError::AuthRequired),
            ("socks5://p", &[5, 2], ProxyError::AuthRequired),
            ("socks5://a:b@p", &[5, 2, 1, 1], ProxyError::AuthFailed),
            (
                "socks5://p",
                &[5, 0, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0],
                ProxyError::Refused(5),
            ),
            ("socks5://p", &[4, 0], ProxyError::Malformed),
        ];
        for (url, answer, error) in cases {
            let (verdict, _) = run(&mut tunnel(url, "h"), answer);
            assert_eq!(verdict, Err(error), "{url} {answer:?}");
        }
        let long = "h".repeat(256);
        assert!(
            Proxy::parse("socks5://p")
                .unwrap()
                .tunnel(&long, 1)
                .is_err()
        );
    }
}
