//! Whole messages, as the application sends and receives them.

use crate::utf8::Text;
use bytes::Bytes;

/// A complete data message.
#[derive(Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message: valid UTF-8.
    Text(Text),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    /// Payload length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The payload bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Text(text) => text.as_bytes(),
            Self::Binary(bytes) => bytes,
        }
    }

    /// Text or binary.
    pub fn kind(&self) -> MessageKind {
        match self {
            Self::Text(_) => MessageKind::Text,
            Self::Binary(_) => MessageKind::Binary,
        }
    }

    /// The payload as shared bytes.
    pub fn into_bytes(self) -> Bytes {
        match self {
            Self::Text(text) => text.into_bytes(),
            Self::Binary(bytes) => bytes,
        }
    }
}

impl From<Text> for Message {
    fn from(text: Text) -> Self {
        Self::Text(text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Self::Text(text.into())
    }
}

impl From<alloc::string::String> for Message {
    fn from(text: alloc::string::String) -> Self {
        Self::Text(text.into())
    }
}

impl From<Bytes> for Message {
    fn from(bytes: Bytes) -> Self {
        Self::Binary(bytes)
    }
}

impl From<alloc::vec::Vec<u8>> for Message {
    fn from(bytes: alloc::vec::Vec<u8>) -> Self {
        Self::Binary(bytes.into())
    }
}

impl From<&[u8]> for Message {
    fn from(bytes: &[u8]) -> Self {
        Self::Binary(Bytes::copy_from_slice(bytes))
    }
}

impl core::fmt::Debug for Message {
    /// Shows the kind, the length and at most the first 64 bytes: a 16 MiB
    /// message in a panic message helps nobody.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        const SHOWN: usize = 64;
        let bytes = self.as_bytes();
        let shown = &bytes[..bytes.len().min(SHOWN)];
        let more = if bytes.len() > SHOWN { "…" } else { "" };
        match self {
            Self::Text(_) => {
                let text = alloc::string::String::from_utf8_lossy(shown);
                write!(f, "Text({} bytes: {text:?}{more})", bytes.len())
            }
            Self::Binary(_) => write!(f, "Binary({} bytes: {shown:02x?}{more})", bytes.len()),
        }
    }
}

/// The type of a data message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text.
    Text,
    /// Arbitrary bytes.
    Binary,
}
