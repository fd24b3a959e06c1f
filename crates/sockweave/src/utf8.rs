//! Incremental, fail-fast UTF-8 validation and the [`Text`] payload type.
//!
//! Text messages arrive in frames, and frames arrive in pieces; a code point
//! may be split anywhere. [`Validator`] keeps at most three bytes of an
//! unfinished code point between calls and rejects input as soon as the
//! bytes seen so far cannot begin any valid UTF-8 string, which is what
//! RFC 6455 §8.1 and Autobahn's strict 6.* cases expect ("fail fast").
//!
//! The bulk of the work is SIMD validation (`simdutf8`'s `compat` API, the
//! fastest validator that still says where and how input went wrong): its
//! error tells apart "invalid" (`error_len() == Some`) from "valid so far
//! but cut short" (`error_len() == None`), exactly the two answers a
//! streaming check needs. It validates mixed non-ASCII text several times
//! faster than `core::str::from_utf8` (docs/benchmarks.md).

use alloc::string::String;
use bytes::Bytes;
use core::fmt;

/// The bytes seen so far can never form valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utf8Error;

impl fmt::Display for Utf8Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid UTF-8")
    }
}

/// Validates a UTF-8 stream fed in arbitrary pieces.
#[derive(Debug, Clone, Default)]
pub struct Validator {
    partial: [u8; 4],
    partial_len: u8,
}

impl Validator {
    /// A validator at the start of a string.
    pub const fn new() -> Self {
        Self {
            partial: [0; 4],
            partial_len: 0,
        }
    }

    /// Checks the next piece of the stream. Fails as soon as an invalid
    /// byte is seen, even in the middle of a code point.
    pub fn feed(&mut self, mut input: &[u8]) -> Result<(), Utf8Error> {
        if self.partial_len > 0 {
            let have = usize::from(self.partial_len);
            let width = sequence_width(self.partial[0]);
            let take = (width - have).min(input.len());
            self.partial[have..have + take].copy_from_slice(&input[..take]);
            let now = have + take;
            input = &input[take..];
            match from_utf8(&self.partial[..now]) {
                Ok(_) => self.partial_len = 0,
                Err(e) if e.error_len().is_some() => return Err(Utf8Error),
                Err(_) => {
                    self.partial_len = now as u8;
                    return Ok(());
                }
            }
        }
        match from_utf8(input) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(Utf8Error),
            Err(e) => {
                let tail = &input[e.valid_up_to()..];
                self.partial[..tail.len()].copy_from_slice(tail);
                self.partial_len = tail.len() as u8;
                Ok(())
            }
        }
    }

    /// Number of bytes of an unfinished code point held back.
    pub fn pending(&self) -> usize {
        usize::from(self.partial_len)
    }

    /// Ends the stream: fails if it stops inside a code point.
    pub fn finish(&mut self) -> Result<(), Utf8Error> {
        let complete = self.partial_len == 0;
        self.partial_len = 0;
        if complete { Ok(()) } else { Err(Utf8Error) }
    }
}

/// Checks that `input` is UTF-8, whole.
pub(crate) fn check(input: &[u8]) -> Result<(), Utf8Error> {
    from_utf8(input).map_err(|_| Utf8Error)
}

fn from_utf8(input: &[u8]) -> Result<(), simdutf8::compat::Utf8Error> {
    simdutf8::compat::from_utf8(input).map(|_| ())
}

/// Length of the sequence a valid lead byte starts. Only called on bytes
/// that `from_utf8` already accepted as the start of a sequence.
fn sequence_width(lead: u8) -> usize {
    match lead {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

/// The payload of a text message: shared bytes known to be valid UTF-8.
///
/// Cloning is cheap (a reference count), and a text message that arrived
/// in one frame shares the connection's read buffer instead of copying it.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Text(Bytes);

impl Text {
    /// An empty text.
    pub const fn new() -> Self {
        Self(Bytes::new())
    }

    /// Wraps bytes after checking they are UTF-8.
    pub fn from_bytes(bytes: Bytes) -> Result<Self, Utf8Error> {
        from_utf8(&bytes).map_err(|_| Utf8Error)?;
        Ok(Self(bytes))
    }

    /// Wraps bytes the caller has already validated, e.g. with [`Validator`].
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        debug_assert!(core::str::from_utf8(&bytes).is_ok());
        Self(bytes)
    }

    /// A text from a static string, without allocating.
    pub const fn from_static(text: &'static str) -> Self {
        Self(Bytes::from_static(text.as_bytes()))
    }

    /// The text as a string slice.
    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor of `Text` either validates its bytes or
        // receives bytes that passed `Validator` completely, and `Text` never
        // exposes its bytes mutably. The core builds a `Text` only from
        // bytes it checked within one call or holds itself: a text frame
        // left in the caller's buffer across calls is checked again whole
        // when it completes (the caller may have changed the buffer). This is the one `unsafe` outside
        // `mask`: the alternative, validating again on every access, would
        // make reading a text message cost as much as receiving it.
        #[allow(unsafe_code)]
        unsafe {
            core::str::from_utf8_unchecked(&self.0)
        }
    }

    /// The UTF-8 bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The underlying shared bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl core::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Self(Bytes::from(text.into_bytes()))
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Self(Bytes::copy_from_slice(text.as_bytes()))
    }
}

impl From<Text> for Bytes {
    fn from(text: Text) -> Self {
        text.0
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn check_all_splits(input: &[u8]) {
        let expected = core::str::from_utf8(input).is_ok();
        for a in 0..=input.len() {
            for b in a..=input.len() {
                let mut v = Validator::new();
                let ok = v.feed(&input[..a]).is_ok()
                    && v.feed(&input[a..b]).is_ok()
                    && v.feed(&input[b..]).is_ok()
                    && v.finish().is_ok();
                assert_eq!(ok, expected, "{input:x?} split at {a}, {b}");
            }
        }
    }

    #[test]
    fn agrees_with_core_across_splits() {
        let cases: &[&[u8]] = &[
            b"",
            b"hello",
            "κόσμε".as_bytes(),
            "𝄞 music 𝄞".as_bytes(),
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
            b"\xf4\x90\x80\x80",
            b"\xc0\xaf",
            b"\xe0\x80\xaf",
            b"\xed\xa0\x80",
            b"\xf0\x9f\x98",
            b"\x80",
            b"\xff",
            b"a\xc3",
        ];
        for case in cases {
            check_all_splits(case);
        }
    }

    #[test]
    fn fails_at_the_first_impossible_byte() {
        // Autobahn 6.4.1: the stream must fail at 0xf4 0x90, before the
        // rest of the code point arrives.
        let mut v = Validator::new();
        v.feed("κόσμε".as_bytes()).unwrap();
        assert_eq!(v.feed(b"\xf4"), Ok(()));
        assert_eq!(v.feed(b"\x90"), Err(Utf8Error));
    }

    #[test]
    fn holds_back_only_an_unfinished_code_point() {
        let mut v = Validator::new();
        v.feed(b"ab\xf0\x9f").unwrap();
        assert_eq!(v.pending(), 2);
        v.feed(b"\x98\x80").unwrap();
        assert_eq!(v.pending(), 0);
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_and_splits_match_core(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
            splits in proptest::collection::vec(0usize..64, 0..6),
        ) {
            let mut cuts: Vec<usize> = splits.into_iter().map(|s| s.min(data.len())).collect();
            cuts.sort_unstable();
            let mut v = Validator::new();
            let mut start = 0;
            let mut ok = true;
            for cut in cuts.into_iter().chain(core::iter::once(data.len())) {
                ok = ok && v.feed(&data[start..cut]).is_ok();
                start = cut;
            }
            ok = ok && v.finish().is_ok();
            proptest::prop_assert_eq!(ok, core::str::from_utf8(&data).is_ok());
        }
    }
}
