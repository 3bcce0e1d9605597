//! Decimal128 as the text docshift writes for it, straight from its 16 bytes.
//!
//! The text is exactly what the bson crate's `Display` gives (its tests below hold the two
//! together): MongoDB's form of IEEE 754's to-scientific-string — plain notation while the
//! exponent is at most 0 and the adjusted exponent at least −6 (`12.50`, `0.000001`),
//! otherwise `d.dddE±n` (`1.23E+5`); `NaN` without a sign, `Infinity`, `-Infinity`; a
//! coefficient beyond 34 digits (a non-canonical encoding) reads as zero. The crate reaches
//! that text through a bit-slice walk, which took about 7 % of a copy's CPU on documents with
//! a few decimals each (perf, 100,000 `orders` documents); this reads the bit fields with
//! shifts. Layout: IEEE 754-2008 decimal128 in its binary integer decimal (BID) encoding,
//! stored little-endian in BSON (bsonspec.org, "decimal128").

use bson::Decimal128;

/// The exponent's bias.
const BIAS: i32 = 6176;
/// The largest canonical coefficient: 34 nines.
const MAX_COEFFICIENT: u128 = 9_999_999_999_999_999_999_999_999_999_999_999;

/// A Decimal128 read from its bits.
enum Parts {
    Finite { negative: bool, coefficient: u128, exponent: i32 },
    NotFinite(&'static str),
}

fn parts(decimal: &Decimal128) -> Parts {
    let bits = u128::from_le_bytes(decimal.bytes());
    let negative = bits >> 127 == 1;
    // The combination field's top four bits all set: NaN or an infinity.
    if (bits >> 123) & 0xf == 0xf {
        return Parts::NotFinite(match ((bits >> 122) & 1 == 1, negative) {
            (true, _) => "NaN",
            (false, false) => "Infinity",
            (false, true) => "-Infinity",
        });
    }
    let (exponent, coefficient) = if (bits >> 125) & 0b11 == 0b11 {
        // The long form: its implied `100` prefix makes the coefficient at least 2^113,
        // beyond 34 digits, so it reads as zero.
        ((bits >> 111) & 0x3fff, 0)
    } else {
        ((bits >> 113) & 0x3fff, bits & ((1 << 113) - 1))
    };
    let coefficient = if coefficient > MAX_COEFFICIENT { 0 } else { coefficient };
    Parts::Finite { negative, coefficient, exponent: exponent as i32 - BIAS }
}

/// Whether the value is a number (not NaN nor an infinity).
pub(crate) fn is_finite(decimal: &Decimal128) -> bool {
    matches!(parts(decimal), Parts::Finite { .. })
}

/// Appends a finite value's text to `out` and returns its length; a value that is not finite
/// writes nothing and gives its text (`NaN`, `Infinity`, `-Infinity`).
pub(crate) fn write(out: &mut Vec<u8>, decimal: &Decimal128) -> Result<usize, &'static str> {
    let (negative, coefficient, exponent) = match parts(decimal) {
        Parts::Finite { negative, coefficient, exponent } => (negative, coefficient, exponent),
        Parts::NotFinite(text) => return Err(text),
    };
    let start = out.len();
    if negative {
        out.push(b'-');
    }
    let mut buffer = itoa::Buffer::new();
    let digits = buffer.format(coefficient).as_bytes();
    let adjusted = exponent + digits.len() as i32 - 1;
    if exponent <= 0 && adjusted >= -6 {
        let fraction = exponent.unsigned_abs() as usize;
        if fraction == 0 {
            out.extend_from_slice(digits);
        } else if fraction >= digits.len() {
            out.extend_from_slice(b"0.");
            out.resize(out.len() + fraction - digits.len(), b'0');
            out.extend_from_slice(digits);
        } else {
            let (whole, decimals) = digits.split_at(digits.len() - fraction);
            out.extend_from_slice(whole);
            out.push(b'.');
            out.extend_from_slice(decimals);
        }
    } else {
        let (first, rest) = digits.split_at(1);
        out.extend_from_slice(first);
        if !rest.is_empty() {
            out.push(b'.');
            out.extend_from_slice(rest);
        }
        out.push(b'E');
        if adjusted > 0 {
            out.push(b'+');
        }
        out.extend_from_slice(itoa::Buffer::new().format(adjusted).as_bytes());
    }
    Ok(out.len() - start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, Rng, SeedableRng};
    use std::str::FromStr;

    fn text(decimal: &Decimal128) -> String {
        let mut out = Vec::new();
        match write(&mut out, decimal) {
            Ok(len) => {
                assert_eq!(len, out.len());
                String::from_utf8(out).unwrap_or_default()
            }
            Err(text) => text.to_owned(),
        }
    }

    fn same_as_display(decimal: Decimal128) {
        assert_eq!(text(&decimal), decimal.to_string(), "{decimal:?}");
        assert_eq!(is_finite(&decimal), !decimal.to_string().contains(['N', 'I']), "{decimal:?}");
    }

    #[test]
    fn values_read_as_the_bson_crate_writes_them() {
        for written in [
            "0", "-0", "1", "-1", "12.50", "0.000001", "0.0000001", "1.23E+5", "123456", "1E+3", "1.000E+3",
            "9999999999999999999999999999999999", "-9.999999999999999999999999999999999E+6144", "1E-6176",
            "0E-6176", "0E+6111", "123.456E-10", "5E-7", "NaN", "Infinity", "-Infinity",
        ] {
            let decimal = Decimal128::from_str(written).unwrap_or_else(|e| panic!("{written}: {e}"));
            same_as_display(decimal);
        }
    }

    #[test]
    fn any_sixteen_bytes_read_as_the_bson_crate_writes_them() {
        let mut rng = StdRng::seed_from_u64(128);
        for _ in 0..200_000 {
            let mut bytes: [u8; 16] = rng.gen();
            // Every form: the long one (bits 126-125 set), specials, and the usual short one
            // with exponents near the plain-notation edge.
            match rng.gen_range(0..4) {
                0 => bytes[15] |= 0x60,
                1 => bytes[15] |= 0x78,
                2 => {
                    let coefficient: u128 = rng.gen_range(0..=MAX_COEFFICIENT) >> rng.gen_range(0..110);
                    let exponent = (BIAS + rng.gen_range(-40..8)) as u128;
                    let sign = u128::from(rng.gen::<bool>()) << 127;
                    bytes = (sign | exponent << 113 | coefficient).to_le_bytes();
                }
                _ => {}
            }
            same_as_display(Decimal128::from_bytes(bytes));
        }
    }
}
