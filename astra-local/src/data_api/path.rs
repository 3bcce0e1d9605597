//! Document paths as the Data API writes them: segments joined by `.`, with `&` escaping a
//! literal `.` or `&` inside a segment (`pricing.price&.usd` is field `price.usd` of `pricing`;
//! `a&&b` is field `a&b`). Follows stargate/data-api's `DocumentPath`: [`verify_encoded`] is the
//! check filters, sorts and indexing paths get (a lone `&` is refused), [`decode`] the stricter
//! one projections and update paths get (an empty segment, as in `foo..bar`, is refused too).

/// The message the real service gives for a lone `&` at UTF-16 position `at`.
fn lone_ampersand(at: usize) -> String {
    format!(
        "The ampersand character '&' at position {at} must be followed by either '&' or '.' to form a valid escape sequence. In path strings, '&' is used to escape '.' or '&' characters."
    )
}

/// Checks that every `&` in `path` escapes a `.` or a `&`.
pub fn verify_encoded(path: &str) -> Result<(), String> {
    let mut chars = path.chars().peekable();
    let mut position = 0;
    while let Some(c) = chars.next() {
        if c == '&' {
            match chars.next() {
                Some('&' | '.') => position += 2,
                _ => return Err(lone_ampersand(position)),
            }
        } else {
            position += c.len_utf16();
        }
    }
    Ok(())
}

/// Splits `path` into its decoded segments; refuses lone `&` and empty segments.
pub fn decode(path: &str) -> Result<Vec<String>, String> {
    let mut segments = Vec::new();
    let mut segment = String::new();
    let mut chars = path.chars();
    let mut position = 0;
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if segment.is_empty() {
                    return Err(format!(
                        "The path cannot contain an empty segment. The dot at position {position} must be preceded by a non-empty segment."
                    ));
                }
                segments.push(std::mem::take(&mut segment));
                position += 1;
            }
            '&' => match chars.next() {
                Some(next @ ('&' | '.')) => {
                    segment.push(next);
                    position += 2;
                }
                _ => return Err(lone_ampersand(position)),
            },
            c => {
                segment.push(c);
                position += c.len_utf16();
            }
        }
    }
    if segment.is_empty() {
        return Err("Path cannot end with a dot. Each segment must be a non-empty segment.".to_owned());
    }
    segments.push(segment);
    Ok(segments)
}

/// A field name as one escaped path segment (`.` → `&.`, `&` → `&&`).
pub fn encode_segment(name: &str) -> String {
    if !name.contains(['&', '.']) {
        return name.to_owned();
    }
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c == '&' || c == '.' {
            out.push('&');
        }
        out.push(c);
    }
    out
}

/// Whether encoded path `path` lies strictly below encoded path `parent` (`a.b` below `a`).
pub fn is_below(path: &str, parent: &str) -> bool {
    path.len() > parent.len() && path.starts_with(parent) && path.as_bytes()[parent.len()] == b'.'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_dots_and_ampersands() {
        assert_eq!(decode("pricing.price&.usd").unwrap(), ["pricing", "price.usd"]);
        assert_eq!(decode("a&&b.c").unwrap(), ["a&b", "c"]);
        assert_eq!(decode("pricing.price&&&.aud").unwrap(), ["pricing", "price&.aud"]);
        assert!(decode("price&").unwrap_err().contains("position 5"));
        assert!(decode("price&abc").is_err());
        assert!(decode("foo..bar").unwrap_err().contains("empty segment"));
        assert!(decode("foo.").is_err());
        assert!(verify_encoded("foo..bar").is_ok());
        assert!(verify_encoded("a&b").is_err());
        assert_eq!(encode_segment("price.usd"), "price&.usd");
        assert_eq!(encode_segment("a&b"), "a&&b");
        assert!(is_below("a.b", "a") && !is_below("ab", "a") && !is_below("a", "a"));
    }
}
