//! Typed errors: what the peer did wrong, what the caller did wrong, and
//! why a handshake failed. A normal close is never an error.

use crate::close::CloseCode;
use crate::handshake::HandshakeError;
use crate::message::Message;
use core::fmt;

/// The peer broke RFC 6455 (or one of our configured limits). Each variant
/// is one rule; [`ProtocolError::close_code`] is the code we close with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// An opcode reserved for future use (3–7, 11–15).
    ReservedOpcode(u8),
    /// RSV bits set that no negotiated extension defines, or set where the
    /// extension does not allow them (control frames, continuations).
    ReservedBits(u8),
    /// A control frame without FIN.
    FragmentedControl,
    /// A control frame with more than 125 bytes of payload.
    ControlTooLong(u64),
    /// A 64-bit payload length with the most significant bit set.
    LengthOverflow,
    /// A client sent an unmasked frame (§5.1).
    UnmaskedFrame,
    /// A server sent a masked frame (§5.1).
    MaskedFrame,
    /// A frame longer than the configured limit.
    FrameTooLarge {
        /// Declared length.
        len: u64,
        /// Configured limit.
        max: u64,
    },
    /// A message longer than the configured limit.
    MessageTooLarge {
        /// Length the message would have reached.
        len: u64,
        /// Configured limit.
        max: u64,
    },
    /// A message split into more fragments than the configured limit.
    TooManyFragments {
        /// Configured limit.
        max: u32,
    },
    /// A continuation frame with no message to continue.
    UnexpectedContinuation,
    /// A new text or binary frame while a fragmented message is unfinished.
    ExpectedContinuation,
    /// A text message, or a close reason, that is not UTF-8.
    InvalidUtf8,
    /// A close frame with a code that may not be sent.
    InvalidCloseCode(u16),
    /// A close frame with a one-byte payload.
    CloseTooShort,
    /// A close reason that is not UTF-8.
    InvalidCloseReason,
    /// A compressed message that would inflate past the message limit.
    InflatedTooLarge {
        /// Configured limit, in inflated bytes.
        max: u64,
    },
    /// A compressed message that is not a valid deflate stream.
    InvalidCompressedData,
}

impl ProtocolError {
    /// The close code this violation is answered with.
    pub fn close_code(&self) -> CloseCode {
        match self {
            Self::InvalidUtf8 | Self::InvalidCloseReason | Self::InvalidCompressedData => {
                CloseCode::INVALID_PAYLOAD
            }
            Self::FrameTooLarge { .. }
            | Self::MessageTooLarge { .. }
            | Self::InflatedTooLarge { .. } => CloseCode::MESSAGE_TOO_BIG,
            Self::TooManyFragments { .. } => CloseCode::POLICY_VIOLATION,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReservedOpcode(op) => write!(f, "reserved opcode {op:#x}"),
            Self::ReservedBits(bits) => {
                write!(
                    f,
                    "reserved bits {bits:#05b} set where no extension defines them"
                )
            }
            Self::FragmentedControl => f.write_str("fragmented control frame"),
            Self::ControlTooLong(len) => {
                write!(f, "control frame payload of {len} bytes (max 125)")
            }
            Self::LengthOverflow => f.write_str("64-bit payload length with the high bit set"),
            Self::UnmaskedFrame => f.write_str("unmasked frame from a client"),
            Self::MaskedFrame => f.write_str("masked frame from a server"),
            Self::FrameTooLarge { len, max } => {
                write!(f, "frame of {len} bytes exceeds the limit of {max}")
            }
            Self::MessageTooLarge { len, max } => {
                write!(f, "message of {len} bytes exceeds the limit of {max}")
            }
            Self::TooManyFragments { max } => {
                write!(f, "message split into more than {max} fragments")
            }
            Self::UnexpectedContinuation => {
                f.write_str("continuation frame without a message to continue")
            }
            Self::ExpectedContinuation => f.write_str("new data frame inside a fragmented message"),
            Self::InvalidUtf8 => f.write_str("text message is not valid UTF-8"),
            Self::InvalidCloseCode(code) => write!(f, "close code {code} may not be sent"),
            Self::CloseTooShort => f.write_str("close frame payload of one byte"),
            Self::InvalidCloseReason => f.write_str("close reason is not valid UTF-8"),
            Self::InflatedTooLarge { max } => {
                write!(
                    f,
                    "compressed message inflates past the limit of {max} bytes"
                )
            }
            Self::InvalidCompressedData => f.write_str("compressed message is not valid deflate"),
        }
    }
}

/// Which timer ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Timeout {
    /// The opening handshake did not finish in time.
    Handshake,
    /// The peer did not answer our close frame in time.
    Close,
    /// The peer did not answer a keepalive ping in time.
    Pong,
    /// Nothing was received for the configured idle time.
    Idle,
    /// A data message began and did not end within the message timeout.
    Message,
}

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Handshake => "opening handshake timed out",
            Self::Close => "closing handshake timed out",
            Self::Pong => "keepalive pong not received in time",
            Self::Idle => "connection idle for too long",
            Self::Message => "message not finished in time",
        })
    }
}

/// Why a connection failed. Reported once, as [`crate::Event::Error`],
/// before the [`crate::Event::Closed`] that ends the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The peer broke the protocol; we sent a close frame with its code.
    Protocol(ProtocolError),
    /// The opening handshake failed.
    Handshake(HandshakeError),
    /// A timer ran out.
    Timeout(Timeout),
    /// The transport ended before the closing handshake finished.
    TransportClosed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Protocol(e) => write!(f, "protocol error: {e}"),
            Self::Handshake(e) => write!(f, "handshake failed: {e}"),
            Self::Timeout(t) => fmt::Display::fmt(t, f),
            Self::TransportClosed => f.write_str("connection closed without a closing handshake"),
        }
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Self::Protocol(e)
    }
}

impl Error {
    /// The close code our close frame carries when this error fails an
    /// open connection.
    pub fn close_code(&self) -> CloseCode {
        match self {
            Self::Protocol(e) => e.close_code(),
            // The peer holds our memory with a message it does not finish.
            Self::Timeout(Timeout::Message) => CloseCode::POLICY_VIOLATION,
            _ => CloseCode::GOING_AWAY,
        }
    }
}

impl From<HandshakeError> for Error {
    fn from(e: HandshakeError) -> Self {
        Self::Handshake(e)
    }
}

/// What the caller may expect when sending: not errors of the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// The opening handshake has not finished.
    NotOpen,
    /// A close frame was sent or received: no more messages may be sent.
    Closing,
    /// The outbound queue is full; the message is handed back untouched.
    Full(Message),
    /// [`crate::Connection::accept`] or [`crate::Connection::reject`]
    /// without a request awaiting a decision.
    NoRequest,
    /// Accepting with a subprotocol the client did not offer.
    ProtocolNotOffered(alloc::string::String),
    /// A close code that may not be sent (see [`CloseCode::is_sendable`]).
    InvalidCloseCode(u16),
    /// A close reason longer than 123 bytes.
    ReasonTooLong(usize),
    /// A ping payload longer than 125 bytes.
    ControlTooLong(usize),
    /// A fragment that does not fit the message being sent in pieces.
    FragmentOutOfOrder,
    /// An [`crate::Accept`] or [`crate::Reject`] that cannot be written
    /// into an HTTP head; nothing was sent and the request still awaits a
    /// decision.
    InvalidField(crate::handshake::InvalidField),
    /// [`crate::Connection::upgraded`] with a [`crate::Config`] that
    /// [`crate::Config::validate`] refuses.
    InvalidConfig(crate::ConfigError),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotOpen => f.write_str("connection is not open yet"),
            Self::Closing => f.write_str("connection is closing"),
            Self::Full(_) => f.write_str("outbound queue is full"),
            Self::NoRequest => f.write_str("no handshake request awaits a decision"),
            Self::ProtocolNotOffered(p) => {
                write!(f, "subprotocol {p:?} was not offered by the client")
            }
            Self::InvalidCloseCode(c) => write!(f, "close code {c} may not be sent"),
            Self::ReasonTooLong(n) => write!(f, "close reason of {n} bytes (max 123)"),
            Self::ControlTooLong(n) => write!(f, "control payload of {n} bytes (max 125)"),
            Self::FragmentOutOfOrder => {
                f.write_str("fragment does not continue the message being sent")
            }
            Self::InvalidField(e) => write!(f, "cannot write the HTTP head: {e}"),
            Self::InvalidConfig(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for ProtocolError {}
impl core::error::Error for Error {}
impl core::error::Error for SendError {}
impl core::error::Error for Timeout {}
