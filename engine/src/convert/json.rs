//! Appending JSON text to a byte buffer, fast: the converter writes each document in one pass
//! instead of building a `serde_json::Value` tree. Escaping matches Jackson's defaults (what
//! the Data API re-serializes with), so sizes we measure are the sizes Astra measures.

use base64::Engine as _;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `0` = no escape; `b'u'` = `\u00XX`; otherwise the short escape letter.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = b'u';
        i += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Appends `s` as a quoted, escaped JSON string.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc = ESCAPE[b as usize];
        if esc == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        if esc == b'u' {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 0xf) as usize]);
        } else {
            out.push(b'\\');
            out.push(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Appends a quoted key and the colon.
pub(crate) fn write_key(out: &mut Vec<u8>, key: &str) {
    write_str(out, key);
    out.push(b':');
}

/// Appends an integer; returns the literal's length.
pub(crate) fn write_i64(out: &mut Vec<u8>, v: i64) -> usize {
    let mut buf = itoa::Buffer::new();
    let s = buf.format(v);
    out.extend_from_slice(s.as_bytes());
    s.len()
}

/// Appends a finite double in its shortest round-trip form (`1.5`, `1e300`, `5.0`); returns
/// the literal's length. The caller handles NaN and infinities.
pub(crate) fn write_f64(out: &mut Vec<u8>, v: f64) -> usize {
    let mut buf = ryu::Buffer::new();
    let s = buf.format_finite(v);
    out.extend_from_slice(s.as_bytes());
    s.len()
}

/// Appends bytes as lowercase hex (no quotes).
pub(crate) fn write_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        out.push(HEX[(b >> 4) as usize]);
        out.push(HEX[(b & 0xf) as usize]);
    }
}

/// Appends 16 bytes as a quoted canonical UUID (`8-4-4-4-12`, lowercase).
pub(crate) fn write_uuid(out: &mut Vec<u8>, b: &[u8; 16]) {
    out.push(b'"');
    write_hex(out, &b[0..4]);
    out.push(b'-');
    write_hex(out, &b[4..6]);
    out.push(b'-');
    write_hex(out, &b[6..8]);
    out.push(b'-');
    write_hex(out, &b[8..10]);
    out.push(b'-');
    write_hex(out, &b[10..16]);
    out.push(b'"');
}

/// Appends bytes as a quoted standard (padded) base64 string.
pub(crate) fn write_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    let start = out.len();
    let len = base64::encoded_len(bytes.len(), true).unwrap_or(0);
    out.resize(start + len, 0);
    let written = base64::engine::general_purpose::STANDARD
        .encode_slice(bytes, &mut out[start..])
        .unwrap_or(0);
    out.truncate(start + written);
    out.push(b'"');
}

/// The length of `s` in UTF-16 code units: how Java (and so the Data API) counts characters.
pub(crate) fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().map(char::len_utf16).sum()
    }
}

/// The UTF-16 length of UTF-8 bytes known to be valid: one unit per scalar, two for those
/// encoded in 4 bytes.
pub(crate) fn utf16_len_bytes(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0xbf => 0,
            0xf0..=0xff => 2,
            _ => 1,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_serde_json() {
        let s = "a\"b\\c\n\t\u{1}\u{7f}é😀/";
        let mut out = Vec::new();
        write_str(&mut out, s);
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, s);
        assert_eq!(String::from_utf8(out).unwrap(), "\"a\\\"b\\\\c\\n\\t\\u0001\u{7f}é😀/\"");
    }

    #[test]
    fn utf16_lengths_agree() {
        for s in ["", "abc", "é", "😀x", "日本"] {
            assert_eq!(utf16_len(s), s.encode_utf16().count());
            assert_eq!(utf16_len_bytes(s.as_bytes()), s.encode_utf16().count());
        }
    }

    #[test]
    fn base64_and_uuid() {
        let mut out = Vec::new();
        write_base64(&mut out, b"hello");
        assert_eq!(out, b"\"aGVsbG8=\"");
        out.clear();
        let b: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
        write_uuid(&mut out, &b);
        assert_eq!(out, b"\"00010203-0405-0607-0809-0a0b0c0d0e0f\"");
    }
}
