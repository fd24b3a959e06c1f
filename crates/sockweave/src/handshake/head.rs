//! Finding the end of an HTTP head in a growing buffer, in linear time.

/// A limit the head broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeadLimit {
    /// The whole head is longer than allowed.
    Head,
    /// The first line (request or status line) is longer than allowed.
    FirstLine,
}

/// Remembers how far a buffer has been scanned for the blank line.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeadReader {
    scanned: usize,
    first_line_seen: bool,
}

impl HeadReader {
    /// Looks at `buf` (which starts with the head and only ever grows
    /// between calls) and returns the head's length once it is complete.
    pub(crate) fn poll(
        &mut self,
        buf: &[u8],
        max_head: usize,
        max_first_line: usize,
    ) -> Result<Option<usize>, HeadLimit> {
        // The terminator may straddle the previous end: back up 3 bytes.
        let from = self.scanned.saturating_sub(3);
        let window = &buf[..buf.len().min(max_head)];
        if !self.first_line_seen {
            let line_window = &window[..window.len().min(max_first_line + 2)];
            match find(line_window, from, b"\r\n") {
                Some(_) => self.first_line_seen = true,
                None if line_window.len() >= max_first_line + 2 => {
                    return Err(HeadLimit::FirstLine);
                }
                None => {}
            }
        }
        if let Some(end) = find(window, from, b"\r\n\r\n") {
            return Ok(Some(end + 4));
        }
        if buf.len() >= max_head {
            return Err(HeadLimit::Head);
        }
        self.scanned = buf.len();
        Ok(None)
    }
}

/// Whether `head` holds an LF that is not the end of a CRLF. Lines end
/// with CRLF; RFC 9112 §2.2 lets a recipient take a lone LF as a line end
/// too, but then two readers of the same bytes can disagree on where a
/// header, or the head, ends (ours looks for CRLF CRLF; httparse and many
/// proxies take LF LF), and a header one of them sees the other does not.
/// Such a head is refused (400) instead.
pub(crate) fn has_bare_lf(head: &[u8]) -> bool {
    head.iter()
        .enumerate()
        .any(|(i, &b)| b == b'\n' && (i == 0 || head[i - 1] != b'\r'))
}

fn find(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_end_when_fed_one_byte_at_a_time() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nrest";
        let mut reader = HeadReader::default();
        for n in 0..head.len() {
            let found = reader.poll(&head[..n], 1024, 64).unwrap();
            if n < 27 {
                assert_eq!(found, None, "at {n}");
            } else {
                assert_eq!(found, Some(27));
                break;
            }
        }
    }

    #[test]
    fn limits() {
        let mut reader = HeadReader::default();
        assert_eq!(
            reader.poll(b"GET /aaaaaaaa", 1024, 8),
            Err(HeadLimit::FirstLine)
        );
        let mut reader = HeadReader::default();
        assert_eq!(
            reader.poll(b"GET / HTTP/1.1\r\nX: yyyyyyyyyyyy", 20, 64),
            Err(HeadLimit::Head)
        );
        let mut reader = HeadReader::default();
        assert_eq!(reader.poll(b"GET / HTTP/1.1\r\n\r\n", 18, 64), Ok(Some(18)));
    }
}
