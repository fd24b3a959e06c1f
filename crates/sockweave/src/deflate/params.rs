//! permessage-deflate negotiation (RFC 7692 §5, §7.1): parsing offers and
//! responses, a server choosing what to accept, a client checking what
//! came back.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// The extension's registered name.
pub const NAME: &str = "permessage-deflate";

/// What a peer asked for or agreed to, parameter by parameter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Params {
    /// `server_no_context_takeover`.
    pub server_no_context_takeover: bool,
    /// `client_no_context_takeover`.
    pub client_no_context_takeover: bool,
    /// `server_max_window_bits=N`.
    pub server_max_window_bits: Option<u8>,
    /// `client_max_window_bits`: `Some(None)` is the parameter without a
    /// value (an offer saying the client can honour a limit).
    pub client_max_window_bits: Option<Option<u8>>,
}

/// Why a permessage-deflate element is not valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamsError {
    /// A parameter RFC 7692 does not define.
    Unknown(String),
    /// The same parameter twice.
    Duplicate(String),
    /// A value where none is allowed, none where one is needed, or a
    /// window size outside 8–15.
    InvalidValue(String),
    /// Not a well-formed extension element (RFC 6455 §9.1).
    Malformed,
}

impl fmt::Display for ParamsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(p) => write!(f, "unknown permessage-deflate parameter {p:?}"),
            Self::Duplicate(p) => write!(f, "permessage-deflate parameter {p:?} given twice"),
            Self::InvalidValue(p) => {
                write!(f, "invalid value for permessage-deflate parameter {p:?}")
            }
            Self::Malformed => f.write_str("malformed extension element"),
        }
    }
}

impl core::error::Error for ParamsError {}

/// An extension parameter: its name and, if given, its (unquoted) value.
pub(crate) type Param<'a> = (&'a str, Option<String>);

/// Splits one extension element, `name; a; b=1; c="2"`, into its name and
/// parameters (quoted values unquoted).
pub(crate) fn split_element(element: &str) -> Result<(&str, Vec<Param<'_>>), ParamsError> {
    let mut parts = element.split(';').map(str::trim);
    let name = parts
        .next()
        .filter(|n| is_token(n))
        .ok_or(ParamsError::Malformed)?;
    let mut params = Vec::new();
    for part in parts {
        let (key, value) = match part.split_once('=') {
            Some((key, value)) => (key.trim(), Some(unquote(value.trim())?)),
            None => (part, None),
        };
        if !is_token(key) {
            return Err(ParamsError::Malformed);
        }
        params.push((key, value));
    }
    Ok((name, params))
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A token or a quoted-string's content (RFC 7230 §3.2.6).
fn unquote(value: &str) -> Result<String, ParamsError> {
    let Some(inner) = value.strip_prefix('"') else {
        return if is_token(value) {
            Ok(value.into())
        } else {
            Err(ParamsError::Malformed)
        };
    };
    let inner = inner.strip_suffix('"').ok_or(ParamsError::Malformed)?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next().ok_or(ParamsError::Malformed)?),
            '"' => return Err(ParamsError::Malformed),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// A window size value: 1*DIGIT in 8–15, no leading zero (RFC 7692 §7.1.2).
fn window_bits(name: &str, value: Option<&str>) -> Result<u8, ParamsError> {
    let invalid = || ParamsError::InvalidValue(name.into());
    let value = value.ok_or_else(invalid)?;
    if value.starts_with('0') || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    match value.parse::<u8>() {
        Ok(bits @ 8..=15) => Ok(bits),
        _ => Err(invalid()),
    }
}

impl Params {
    /// Parses the parameters of a permessage-deflate element. `offer`:
    /// whether it is a client's offer (where `client_max_window_bits` may
    /// come without a value) or a server's response (where it may not).
    pub fn parse(params: &[Param<'_>], offer: bool) -> Result<Self, ParamsError> {
        let mut out = Self::default();
        let mut seen: Vec<&str> = Vec::new();
        for (key, value) in params {
            let name = key.to_ascii_lowercase();
            if seen.iter().any(|s| s.eq_ignore_ascii_case(key)) {
                return Err(ParamsError::Duplicate(name));
            }
            seen.push(key);
            let value = value.as_deref();
            let no_value = |flag: &mut bool| match value {
                None => {
                    *flag = true;
                    Ok(())
                }
                Some(_) => Err(ParamsError::InvalidValue(name.clone())),
            };
            match name.as_str() {
                "server_no_context_takeover" => no_value(&mut out.server_no_context_takeover)?,
                "client_no_context_takeover" => no_value(&mut out.client_no_context_takeover)?,
                "server_max_window_bits" => {
                    out.server_max_window_bits = Some(window_bits(&name, value)?);
                }
                "client_max_window_bits" => {
                    out.client_max_window_bits = Some(match value {
                        None if offer => None,
                        value => Some(window_bits(&name, value)?),
                    });
                }
                _ => return Err(ParamsError::Unknown(name)),
            }
        }
        Ok(out)
    }

    /// The element for a header: `permessage-deflate; a; b=N`.
    pub fn to_header(&self) -> String {
        let mut out = String::from(NAME);
        if self.server_no_context_takeover {
            out.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            out.push_str("; client_no_context_takeover");
        }
        if let Some(bits) = self.server_max_window_bits {
            out.push_str(&alloc::format!("; server_max_window_bits={bits}"));
        }
        match self.client_max_window_bits {
            Some(Some(bits)) => out.push_str(&alloc::format!("; client_max_window_bits={bits}")),
            Some(None) => out.push_str("; client_max_window_bits"),
            None => {}
        }
        out
    }
}

/// Effort and memory of a compressor; whether idle state is freed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Compression {
    /// zlib level 0–9: 1 is fastest, 6 zlib's default, 9 smallest output.
    pub level: u8,
    /// zlib memory level 1–9 (default 8): the size of the buffer of
    /// symbols waiting for a block, 2^(mem_level+6) entries.
    pub mem_level: u8,
    /// Without context takeover, free a direction's zlib state after each
    /// message instead of resetting it: an idle connection then holds none,
    /// at the cost of allocating it for each compressed message.
    pub release: bool,
}

impl Default for Compression {
    fn default() -> Self {
        Self {
            level: 6,
            mem_level: 8,
            release: false,
        }
    }
}

/// What a server is willing to do; what a client asks for.
///
/// The presets trade memory per connection against compression ratio;
/// docs/deflate.md gives the measured bytes of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeflateConfig {
    /// Our compressor forgets its window after each message: costs ratio,
    /// saves the window's memory between messages.
    pub no_context_takeover: bool,
    /// Ask the peer to forget its window after each message (a server can
    /// require it; a client can only ask).
    pub peer_no_context_takeover: bool,
    /// Our compressor's window, 2^bits bytes (9–15; zlib cannot compress
    /// with a 256-byte window).
    pub max_window_bits: u8,
    /// The window to ask of the peer's compressor (8–15); 15 asks nothing.
    /// A server can only ask a client that offered `client_max_window_bits`.
    pub peer_max_window_bits: u8,
    /// Messages shorter than this are sent uncompressed.
    pub threshold: usize,
    /// Level, memory level, and freeing idle state.
    pub compression: Compression,
}

impl Default for DeflateConfig {
    /// Best ratio: 32 KiB windows kept between messages both ways, as zlib
    /// and most peers default to.
    fn default() -> Self {
        Self {
            no_context_takeover: false,
            peer_no_context_takeover: false,
            max_window_bits: 15,
            peer_max_window_bits: 15,
            threshold: 32,
            compression: Compression::default(),
        }
    }
}

impl DeflateConfig {
    /// Smaller windows (4 KiB both ways, where the peer allows) and our
    /// compressor freed between messages; the peer's window is kept, so
    /// repeated content still compresses well inbound.
    pub fn low_memory() -> Self {
        Self {
            no_context_takeover: true,
            max_window_bits: 12,
            peer_max_window_bits: 12,
            compression: Compression {
                mem_level: 5,
                release: true,
                ..Compression::default()
            },
            ..Self::default()
        }
    }

    /// No context kept either way: each message compressed on its own and
    /// no zlib state held between messages, the least memory per idle
    /// connection; a client may still decline the server's request.
    pub fn no_context() -> Self {
        Self {
            peer_no_context_takeover: true,
            ..Self::low_memory()
        }
    }
}

/// What both ends agreed: the parameters each direction runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agreed {
    /// The server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message.
    pub client_no_context_takeover: bool,
    /// The server's compression window, in bits.
    pub server_window_bits: u8,
    /// The client's compression window, in bits.
    pub client_window_bits: u8,
}

/// The smallest window our compressor can honour (zlib's deflate turns a
/// 256-byte raw window into 512 bytes, which a peer limited to 256 could
/// not inflate).
pub const MIN_COMPRESS_WINDOW_BITS: u8 = 9;

/// Server side: the first acceptable offer among `offers` (the values of
/// the request's `Sec-WebSocket-Extensions`, element by element) gives the
/// response element and what was agreed. Invalid offers, and offers we
/// cannot honour, are declined (RFC 7692 §5), not fatal.
pub fn accept_offer<'a>(
    offers: impl IntoIterator<Item = &'a str>,
    config: &DeflateConfig,
) -> Option<(String, Agreed)> {
    offers.into_iter().find_map(|element| {
        let (name, params) = split_element(element).ok()?;
        if !name.eq_ignore_ascii_case(NAME) {
            return None;
        }
        let offer = Params::parse(&params, true).ok()?;
        accept_params(&offer, config)
    })
}

fn accept_params(offer: &Params, config: &DeflateConfig) -> Option<(String, Agreed)> {
    let ours = config.max_window_bits.clamp(MIN_COMPRESS_WINDOW_BITS, 15);
    let server_window_bits = match offer.server_max_window_bits {
        // A window we cannot compress within: decline this offer.
        Some(limit) if limit < MIN_COMPRESS_WINDOW_BITS => return None,
        Some(limit) => ours.min(limit),
        None => ours,
    };
    let client_window_bits = match offer.client_max_window_bits {
        // The client can honour a limit: ask ours, within its own.
        Some(limit) => config
            .peer_max_window_bits
            .clamp(8, 15)
            .min(limit.unwrap_or(15)),
        None => 15,
    };
    let response = Params {
        server_no_context_takeover: offer.server_no_context_takeover || config.no_context_takeover,
        // Echoed when offered: the client said it will not keep context
        // anyway, and only an agreed reset lets us forget its window (the
        // offer alone is a hint; Autobahn keeps context unless answered).
        client_no_context_takeover: config.peer_no_context_takeover
            || offer.client_no_context_takeover,
        server_max_window_bits: (server_window_bits < 15 || offer.server_max_window_bits.is_some())
            .then_some(server_window_bits),
        // Only when the offer allowed it (§7.1.2.2).
        client_max_window_bits: (client_window_bits < 15 && offer.client_max_window_bits.is_some())
            .then_some(Some(client_window_bits)),
    };
    let agreed = Agreed {
        server_no_context_takeover: response.server_no_context_takeover,
        client_no_context_takeover: response.client_no_context_takeover,
        server_window_bits,
        client_window_bits,
    };
    Some((response.to_header(), agreed))
}

/// Client side: the offer element for `config`.
pub fn offer(config: &DeflateConfig) -> String {
    let ours = config.max_window_bits.clamp(8, 15);
    Params {
        server_no_context_takeover: config.peer_no_context_takeover,
        client_no_context_takeover: config.no_context_takeover,
        server_max_window_bits: (config.peer_max_window_bits < 15).then_some(
            config
                .peer_max_window_bits
                .clamp(MIN_COMPRESS_WINDOW_BITS, 15),
        ),
        // Always say we can honour a limit on our window.
        client_max_window_bits: Some((ours < 15).then_some(ours)),
    }
    .to_header()
}

/// Client side: checks the server's response element against what `config`
/// offered (RFC 7692 §7.1: the client fails the connection on anything
/// invalid or not offered).
pub fn check_response(element: &str, config: &DeflateConfig) -> Result<Agreed, ParamsError> {
    let (name, params) = split_element(element)?;
    if !name.eq_ignore_ascii_case(NAME) {
        return Err(ParamsError::Malformed);
    }
    let response = Params::parse(&params, false)?;
    let asked = config
        .peer_max_window_bits
        .clamp(MIN_COMPRESS_WINDOW_BITS, 15);
    let server_window_bits = match response.server_max_window_bits {
        Some(bits) if asked < 15 && bits > asked => {
            return Err(ParamsError::InvalidValue("server_max_window_bits".into()));
        }
        Some(bits) => bits,
        // We asked for a smaller window and the server did not agree.
        None if asked < 15 => {
            return Err(ParamsError::InvalidValue("server_max_window_bits".into()));
        }
        None => 15,
    };
    let ours = config.max_window_bits.clamp(8, 15);
    let client_window_bits = match response.client_max_window_bits {
        Some(Some(bits)) => bits.min(ours),
        _ => ours,
    };
    // Asking for server_no_context_takeover and not getting it is fine
    // (§7.1.1.1): we inflate either way.
    Ok(Agreed {
        server_no_context_takeover: response.server_no_context_takeover,
        client_no_context_takeover: response.client_no_context_takeover
            || config.no_context_takeover,
        server_window_bits,
        // Our compressor cannot go below 9 bits: a server asking for 8
        // gets 9-bit-safe output only if we never compress (see codec).
        client_window_bits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(element: &str, offer: bool) -> Result<Params, ParamsError> {
        let (name, params) = split_element(element)?;
        assert_eq!(name, NAME);
        Params::parse(&params, offer)
    }

    #[test]
    fn parses_every_parameter_and_quoted_values() {
        let p = parse(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits",
            true,
        )
        .unwrap();
        assert!(p.server_no_context_takeover && p.client_no_context_takeover);
        assert_eq!(p.server_max_window_bits, Some(10));
        assert_eq!(p.client_max_window_bits, Some(None));
        let p = parse("permessage-deflate; client_max_window_bits=\"12\"", false).unwrap();
        assert_eq!(p.client_max_window_bits, Some(Some(12)));
        assert_eq!(Params::default().to_header(), NAME);
    }

    #[test]
    fn invalid_parameters() {
        let dup = parse(
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            true,
        );
        assert_eq!(
            dup,
            Err(ParamsError::Duplicate("server_no_context_takeover".into()))
        );
        assert!(matches!(
            parse("permessage-deflate; x=1", true),
            Err(ParamsError::Unknown(_))
        ));
        for bad in ["7", "16", "08", "", "1a", "\"\""] {
            let element = alloc::format!("permessage-deflate; server_max_window_bits={bad}");
            assert!(parse(&element, true).is_err(), "{bad}");
        }
        assert!(parse("permessage-deflate; server_max_window_bits", true).is_err());
        assert!(parse("permessage-deflate; server_no_context_takeover=1", true).is_err());
        // A response must give client_max_window_bits a value.
        assert!(parse("permessage-deflate; client_max_window_bits", false).is_err());
        assert!(split_element("permessage-deflate; a=\"unterminated").is_err());
        assert!(split_element("; a").is_err());
    }

    #[test]
    fn server_accepts_the_first_offer_it_can_honour() {
        let config = DeflateConfig::default();
        // Invalid, then unhonourable (8-bit server window), then fine.
        let offers = [
            "permessage-deflate; bogus",
            "permessage-deflate; server_max_window_bits=8",
            "permessage-deflate; client_max_window_bits",
        ];
        let (response, agreed) = accept_offer(offers, &config).unwrap();
        assert_eq!(response, "permessage-deflate");
        assert_eq!(
            (agreed.server_window_bits, agreed.client_window_bits),
            (15, 15)
        );
        assert!(accept_offer(["x-other", "permessage-deflate; bogus"], &config).is_none());
    }

    #[test]
    fn a_client_no_context_takeover_offer_is_answered_so_both_ends_agree() {
        // The offer alone is only a hint (§7.1.1.2): the server answers it,
        // so the client must reset and the server may forget its window.
        let config = DeflateConfig::default();
        let offer = ["permessage-deflate; client_no_context_takeover; client_max_window_bits"];
        let (response, agreed) = accept_offer(offer, &config).unwrap();
        assert_eq!(response, "permessage-deflate; client_no_context_takeover");
        assert!(agreed.client_no_context_takeover);
        let (response, agreed) = accept_offer(["permessage-deflate"], &config).unwrap();
        assert_eq!(response, "permessage-deflate");
        assert!(!agreed.client_no_context_takeover);
    }

    #[test]
    fn server_honours_and_imposes_limits() {
        let config = DeflateConfig {
            peer_max_window_bits: 10,
            peer_no_context_takeover: true,
            ..DeflateConfig::default()
        };
        let (response, agreed) = accept_offer(
            ["permessage-deflate; server_max_window_bits=12; server_no_context_takeover; client_max_window_bits"],
            &config,
        )
        .unwrap();
        assert_eq!(
            response,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=12; client_max_window_bits=10"
        );
        assert_eq!(
            agreed,
            Agreed {
                server_no_context_takeover: true,
                client_no_context_takeover: true,
                server_window_bits: 12,
                client_window_bits: 10,
            }
        );
        // Without client_max_window_bits in the offer we may not limit it.
        let (response, agreed) = accept_offer(["permessage-deflate"], &config).unwrap();
        assert!(!response.contains("client_max_window_bits"), "{response}");
        assert_eq!(agreed.client_window_bits, 15);
    }

    #[test]
    fn client_offers_and_checks_the_response() {
        let config = DeflateConfig {
            peer_max_window_bits: 10,
            ..DeflateConfig::default()
        };
        assert_eq!(
            offer(&config),
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits"
        );
        let agreed =
            check_response("permessage-deflate; server_max_window_bits=9", &config).unwrap();
        assert_eq!(agreed.server_window_bits, 9);
        // Larger than asked, or missing when asked: fail.
        assert!(check_response("permessage-deflate; server_max_window_bits=12", &config).is_err());
        assert!(check_response("permessage-deflate", &config).is_err());
        // Duplicates, unknown parameters, bad values: fail.
        let plain = DeflateConfig::default();
        assert!(
            check_response(
                "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
                &plain
            )
            .is_err()
        );
        assert!(check_response("permessage-deflate; x", &plain).is_err());
        assert!(check_response("permessage-deflate; client_max_window_bits=16", &plain).is_err());
        let agreed =
            check_response("permessage-deflate; client_max_window_bits=11", &plain).unwrap();
        assert_eq!(
            (agreed.client_window_bits, agreed.server_window_bits),
            (11, 15)
        );
    }
}
