//! `$pad` with a size check before it allocates.
//!
//! The engine's built-in `$pad('x', 1000000000)` builds a gigabyte string in one step,
//! which no time limit can interrupt. The jsonata-core backend replaces the built-in with
//! [`pad`], which computes the size of the result first and refuses it when it exceeds
//! [`Limits::max_string_bytes`](super::Limits::max_string_bytes).

/// The result of `$pad(text, width, padding)` would be `bytes` long, more than `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooLong {
    pub(crate) bytes: u128,
    pub(crate) limit: usize,
}

/// `text` padded to `|width|` characters (code points) with `padding` repeated (a space when
/// `padding` is empty): on the right for a positive width, on the left for a negative one.
/// A text already that long is returned unchanged. Follows JSONata's `$pad`, and the
/// engine's built-in: the width is truncated towards zero first.
///
/// # Errors
/// [`TooLong`] when the result would exceed `max_bytes`, before anything is allocated.
pub(crate) fn pad(
    text: &str,
    width: f64,
    padding: &str,
    max_bytes: usize,
) -> Result<String, TooLong> {
    let padding = if padding.is_empty() { " " } else { padding };
    // As the built-in: `as i32` truncates, saturates and maps NaN to 0.
    #[allow(clippy::cast_possible_truncation)]
    let width = width as i32;
    let target = usize::try_from(width.unsigned_abs()).unwrap_or(usize::MAX);
    let length = text.chars().count();
    if length >= target {
        return Ok(text.to_owned());
    }
    let needed = target - length;
    let cycle = padding.chars().count();
    let (cycles, rest) = (needed / cycle, needed % cycle);
    let rest_bytes: usize = padding.chars().take(rest).map(char::len_utf8).sum();
    let bytes = text.len() as u128 + cycles as u128 * padding.len() as u128 + rest_bytes as u128;
    if bytes > max_bytes as u128 {
        return Err(TooLong {
            bytes,
            limit: max_bytes,
        });
    }
    let mut fill = String::with_capacity(usize::try_from(bytes).unwrap_or(0));
    fill.extend(padding.chars().cycle().take(needed));
    Ok(if width < 0 {
        fill.push_str(text);
        fill
    } else {
        let mut padded = String::with_capacity(fill.len() + text.len());
        padded.push_str(text);
        padded.push_str(&fill);
        padded
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 1 << 20;

    #[test]
    fn pads_like_jsonata() {
        assert_eq!(pad("foo", 5.0, "", MAX).unwrap(), "foo  ");
        assert_eq!(pad("foo", -5.0, "#", MAX).unwrap(), "##foo");
        assert_eq!(pad("foo", 8.0, "-+", MAX).unwrap(), "foo-+-+-");
        assert_eq!(pad("foo", 1.0, " ", MAX).unwrap(), "foo");
        assert_eq!(pad("foo", 5.7, " ", MAX).unwrap(), "foo  ");
        assert_eq!(pad("foo", -5.7, " ", MAX).unwrap(), "  foo");
        assert_eq!(pad("a𝄞💩", 6.0, "💩", MAX).unwrap(), "a𝄞💩💩💩💩");
        assert_eq!(pad("foo", f64::NAN, " ", MAX).unwrap(), "foo");
    }

    #[test]
    fn refuses_a_result_over_the_limit_before_allocating() {
        assert_eq!(
            pad("x", 1e9, " ", MAX),
            Err(TooLong {
                bytes: 1_000_000_000,
                limit: MAX
            })
        );
        // Multi-byte padding counts in bytes; the saturated width of -1e300 is i32::MIN.
        let error = pad("", -1e300, "💩", MAX).unwrap_err();
        assert_eq!(error.bytes, u128::from(i32::MIN.unsigned_abs()) * 4);
        // Exactly at the limit is fine.
        assert_eq!(pad("ab", 10.0, "é", 2 + 16).unwrap().len(), 18);
        assert!(pad("ab", 10.0, "é", 2 + 15).is_err());
    }
}
