//! The Origin check (RFC 6455 §4.2.2 step 4, §10.2): which browser pages
//! may open a WebSocket to this server. Non-browser clients send no
//! `Origin` and are let through unless the policy requires one.

use super::{HandshakeError, Request, ServerPolicy};
use alloc::string::{String, ToString};

/// Applies `policy`'s Origin rules to `request`.
pub(crate) fn check(policy: &ServerPolicy, request: &Request) -> Result<(), HandshakeError> {
    let Some(origin) = &request.origin else {
        return if policy.require_origin {
            Err(HandshakeError::MissingOrigin)
        } else {
            Ok(())
        };
    };
    let listed = policy.allowed_origins.as_ref();
    if listed.is_none() && !policy.same_host_origin {
        return Ok(());
    }
    let in_list =
        listed.is_some_and(|allowed| allowed.iter().any(|a| a.eq_ignore_ascii_case(origin)));
    let same_host = policy.same_host_origin && is_same_host(origin, &request.host);
    if in_list || same_host {
        Ok(())
    } else {
        Err(HandshakeError::OriginNotAllowed)
    }
}

/// Whether the serialized origin `origin` (`scheme://host[:port]`, RFC
/// 6454 §6.2) names the host the request was sent to: its `Host` header
/// (or `:authority`), with the scheme's default port left out on both.
fn is_same_host(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false; // "null", or not an origin at all
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" | "wss" => ":443",
        "http" | "ws" => ":80",
        _ => return false,
    };
    let strip = |a: &str| -> String {
        let a = a.to_ascii_lowercase();
        match a.strip_suffix(default_port) {
            Some(bare) => bare.to_string(),
            None => a,
        }
    };
    !authority.is_empty() && !authority.contains('/') && strip(authority) == strip(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_host_compares_host_and_port_without_defaults() {
        assert!(is_same_host("https://example.com", "example.com"));
        assert!(is_same_host("https://EXAMPLE.com", "example.com:443"));
        assert!(is_same_host("http://example.com:8080", "example.com:8080"));
        assert!(is_same_host("http://[::1]:9001", "[::1]:9001"));
        assert!(!is_same_host("https://example.com", "example.com:8443"));
        assert!(!is_same_host("https://evil.example", "example.com"));
        assert!(!is_same_host(
            "https://example.com.evil.example",
            "example.com"
        ));
        assert!(!is_same_host("null", "example.com"));
        assert!(!is_same_host("file://", ""));
        assert!(!is_same_host("https://example.com/path", "example.com"));
    }
}
