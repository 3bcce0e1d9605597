//! Exact decimal numbers for JSON number literals: [`Decimal`] compares and orders them by value
//! (filters, sorts, `_id` keys), [`JavaDecimal`] does the arithmetic of `$inc` and `$mul` the way
//! the Data API does it with Java's `BigDecimal`/`BigInteger`, including how the result is
//! printed (`BigDecimal.toString()`: `2.50`, `1E+2`, `1.0E-7`).

use std::cmp::Ordering;
use std::fmt::Write as _;

/// A JSON number as an exact decimal: sign, significant digits (no leading or trailing zeros)
/// and the exponent such that value = 0.DIGITS × 10^exponent. Zero has no digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal {
    pub negative: bool,
    pub digits: Vec<u8>,
    pub exponent: i64,
}

impl Decimal {
    /// Parses a JSON number literal (already validated by the parser).
    pub fn parse(literal: &str) -> Option<Decimal> {
        let (negative, rest) = match literal.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, literal),
        };
        let (mantissa, exp) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
            None => (rest, 0),
        };
        let (int_part, frac_part) = match mantissa.find('.') {
            Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
            None => (mantissa, ""),
        };
        let all: Vec<u8> = int_part.bytes().chain(frac_part.bytes()).map(|b| b - b'0').collect();
        let leading = all.iter().take_while(|d| **d == 0).count();
        if leading == all.len() {
            return Some(Decimal { negative: false, digits: Vec::new(), exponent: 0 });
        }
        let mut digits = all[leading..].to_vec();
        while digits.last() == Some(&0) {
            digits.pop();
        }
        let exponent = int_part.len() as i64 - leading as i64 + exp;
        Some(Decimal { negative, digits, exponent })
    }

    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// The value rounded to an `f64` (for approximate uses only).
    pub fn to_f64(&self) -> f64 {
        let mut text = String::from(if self.negative { "-0." } else { "0." });
        for d in &self.digits {
            text.push((b'0' + d) as char);
        }
        if self.digits.is_empty() {
            text.push('0');
        }
        let _ = write!(text, "e{}", self.exponent);
        text.parse().unwrap_or(0.0)
    }

    /// An order-preserving byte encoding: memcmp order equals numeric order.
    pub fn sort_key(&self, out: &mut Vec<u8>) {
        if self.is_zero() {
            out.push(0x02);
            return;
        }
        let mut body = Vec::with_capacity(self.digits.len() + 9);
        // Exponent shifted to unsigned so big-endian bytes sort numerically.
        body.extend_from_slice(&((self.exponent as i128 + (1i128 << 62)) as u64).to_be_bytes());
        body.extend(self.digits.iter().map(|d| d + b'1'));
        body.push(0x00);
        if self.negative {
            out.push(0x01);
            out.extend(body.iter().map(|b| !b));
        } else {
            out.push(0x03);
            out.extend(body);
        }
    }

    /// The canonical text of the value (`1.50` and `15e-1` give the same text).
    pub fn canonical(&self) -> String {
        if self.is_zero() {
            return "0".to_owned();
        }
        let mut out = String::new();
        if self.negative {
            out.push('-');
        }
        let digits: String = self.digits.iter().map(|d| (b'0' + d) as char).collect();
        let n = digits.len() as i64;
        if self.exponent >= n && self.exponent <= 21 {
            out.push_str(&digits);
            for _ in 0..(self.exponent - n) {
                out.push('0');
            }
        } else if self.exponent > 0 && self.exponent < n {
            let (int, frac) = digits.split_at(self.exponent as usize);
            out.push_str(int);
            out.push('.');
            out.push_str(frac);
        } else if self.exponent <= 0 && self.exponent > -7 {
            out.push_str("0.");
            for _ in 0..(-self.exponent) {
                out.push('0');
            }
            out.push_str(&digits);
        } else {
            out.push_str(&digits[..1]);
            if n > 1 {
                out.push('.');
                out.push_str(&digits[1..]);
            }
            let _ = write!(out, "E{:+}", self.exponent - 1);
        }
        out
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        let mut a = Vec::new();
        let mut b = Vec::new();
        self.sort_key(&mut a);
        other.sort_key(&mut b);
        a.cmp(&b)
    }
}

/// A number as Java's `BigDecimal` holds it: sign, unscaled integer digits and a scale, so that
/// value = unscaled × 10^-scale. `1.50` is (150, 2), `1e2` is (1, -2), `7` is (7, 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JavaDecimal {
    negative: bool,
    /// Decimal digits of the unscaled value, least significant first, without leading zeros
    /// (zero is empty).
    digits: Vec<u8>,
    scale: i64,
    /// Whether Jackson would read the literal as a floating-point number (`.`, `e` or `E`).
    floating: bool,
}

impl JavaDecimal {
    /// Reads a JSON number literal (already validated by the parser).
    pub fn parse(literal: &str) -> Option<JavaDecimal> {
        let (negative, rest) = match literal.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, literal),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
            None => (rest, 0),
        };
        let (int_part, frac_part) = match mantissa.find('.') {
            Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
            None => (mantissa, ""),
        };
        let mut digits: Vec<u8> = int_part.bytes().chain(frac_part.bytes()).rev().map(|b| b - b'0').collect();
        trim(&mut digits);
        let floating = literal.contains(['.', 'e', 'E']);
        let negative = negative && !digits.is_empty();
        Some(JavaDecimal { negative, digits, scale: frac_part.len() as i64 - exponent, floating })
    }

    /// Whether the literal was a floating-point one (Jackson's `isFloatingPointNumber`).
    pub fn is_floating(&self) -> bool {
        self.floating
    }

    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// Java's `BigDecimal.ZERO.equals(x)`: zero with scale 0.
    pub fn is_plain_zero(&self) -> bool {
        self.digits.is_empty() && self.scale == 0
    }

    /// `a + b`: integer addition for two integers (`BigInteger`), else `BigDecimal.add` (the
    /// result keeps the larger scale).
    pub fn add(&self, other: &JavaDecimal) -> JavaDecimal {
        let floating = self.floating || other.floating;
        let scale = self.scale.max(other.scale);
        let a = self.rescaled(scale);
        let b = other.rescaled(scale);
        let (negative, digits) = if a.negative == b.negative {
            (a.negative, add_digits(&a.digits, &b.digits))
        } else {
            match cmp_digits(&a.digits, &b.digits) {
                Ordering::Less => (b.negative, sub_digits(&b.digits, &a.digits)),
                _ => (a.negative, sub_digits(&a.digits, &b.digits)),
            }
        };
        let negative = negative && !digits.is_empty();
        JavaDecimal { negative, digits, scale, floating }
    }

    /// `BigDecimal.multiply`: the scales add up.
    pub fn multiply(&self, other: &JavaDecimal) -> JavaDecimal {
        let mut digits = vec![0u8; self.digits.len() + other.digits.len()];
        for (i, a) in self.digits.iter().enumerate() {
            let mut carry = 0u32;
            for (j, b) in other.digits.iter().enumerate() {
                let total = u32::from(digits[i + j]) + u32::from(*a) * u32::from(*b) + carry;
                digits[i + j] = (total % 10) as u8;
                carry = total / 10;
            }
            let mut k = i + other.digits.len();
            while carry > 0 {
                let total = u32::from(digits[k]) + carry;
                digits[k] = (total % 10) as u8;
                carry = total / 10;
                k += 1;
            }
        }
        trim(&mut digits);
        let negative = (self.negative != other.negative) && !digits.is_empty();
        JavaDecimal { negative, digits, scale: self.scale + other.scale, floating: true }
    }

    /// Value equality that also compares the scale, as `BigDecimal.equals` does.
    pub fn same_representation(&self, other: &JavaDecimal) -> bool {
        self.negative == other.negative && self.digits == other.digits && self.scale == other.scale
    }

    fn rescaled(&self, scale: i64) -> JavaDecimal {
        let mut out = self.clone();
        if scale > self.scale && !self.digits.is_empty() {
            let mut digits = vec![0u8; (scale - self.scale) as usize];
            digits.extend_from_slice(&self.digits);
            out.digits = digits;
        }
        out.scale = scale;
        out
    }

    /// The text Java prints: plain integers for integer arithmetic, `BigDecimal.toString()` else.
    pub fn to_java_string(&self) -> String {
        let mut unscaled: String = self.digits.iter().rev().map(|d| (b'0' + d) as char).collect();
        if unscaled.is_empty() {
            unscaled.push('0');
        }
        let mut out = String::new();
        if self.negative {
            out.push('-');
        }
        if !self.floating || self.scale == 0 {
            out.push_str(&unscaled);
            if !self.floating {
                for _ in 0..(-self.scale).max(0) {
                    out.push('0');
                }
            }
            return out;
        }
        let n = unscaled.len() as i64;
        let adjusted = n - 1 - self.scale;
        if self.scale > 0 && adjusted >= -6 {
            if n > self.scale {
                let (int, frac) = unscaled.split_at((n - self.scale) as usize);
                out.push_str(int);
                out.push('.');
                out.push_str(frac);
            } else {
                out.push_str("0.");
                for _ in 0..(self.scale - n) {
                    out.push('0');
                }
                out.push_str(&unscaled);
            }
        } else {
            out.push_str(&unscaled[..1]);
            if n > 1 {
                out.push('.');
                out.push_str(&unscaled[1..]);
            }
            let _ = write!(out, "E{}{}", if adjusted >= 0 { "+" } else { "" }, adjusted);
        }
        out
    }
}

fn trim(digits: &mut Vec<u8>) {
    while digits.last() == Some(&0) {
        digits.pop();
    }
}

fn cmp_digits(a: &[u8], b: &[u8]) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.iter().rev().cmp(b.iter().rev()))
}

fn add_digits(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let mut carry = 0u8;
    for i in 0..a.len().max(b.len()) {
        let total = a.get(i).copied().unwrap_or(0) + b.get(i).copied().unwrap_or(0) + carry;
        out.push(total % 10);
        carry = total / 10;
    }
    if carry > 0 {
        out.push(carry);
    }
    out
}

/// `a - b` for `a >= b`.
fn sub_digits(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len());
    let mut borrow = 0i8;
    for (i, x) in a.iter().enumerate() {
        let mut d = *x as i8 - b.get(i).copied().unwrap_or(0) as i8 - borrow;
        borrow = i8::from(d < 0);
        if d < 0 {
            d += 10;
        }
        out.push(d as u8);
    }
    trim(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_order_and_normalize() {
        let d = |s: &str| Decimal::parse(s).unwrap();
        assert_eq!(d("1.50"), d("15e-1"));
        assert!(d("-2") < d("-1.5"));
        assert!(d("-0.1") < d("0"));
        assert!(d("0.12") < d("0.123"));
        assert!(d("99") < d("100"));
        assert!(d("-100") < d("-99"));
        assert_eq!(d("100").canonical(), "100");
        assert_eq!(d("1.5").canonical(), "1.5");
        assert_eq!(d("0.001").canonical(), "0.001");
    }

    #[test]
    fn arithmetic_prints_like_java() {
        let j = |s: &str| JavaDecimal::parse(s).unwrap();
        assert_eq!(j("5").add(&j("3")).to_java_string(), "8");
        assert_eq!(j("5").add(&j("-7")).to_java_string(), "-2");
        assert_eq!(j("1.50").add(&j("1")).to_java_string(), "2.50");
        assert_eq!(j("0.1").add(&j("0.2")).to_java_string(), "0.3");
        assert_eq!(j("1e2").add(&j("1")).to_java_string(), "101");
        assert_eq!(j("1e2").add(&j("1.0")).to_java_string(), "101.0");
        assert_eq!(j("1e2").multiply(&j("1")).to_java_string(), "1E+2");
        assert_eq!(j("1.5").multiply(&j("2")).to_java_string(), "3.0");
        assert_eq!(j("-2").multiply(&j("0.5")).to_java_string(), "-1.0");
        assert_eq!(j("0.0000001").add(&j("0.0")).to_java_string(), "1E-7");
        assert_eq!(j("99999999999999999999").add(&j("1")).to_java_string(), "100000000000000000000");
        assert!(j("5").multiply(&j("1")).same_representation(&j("5")));
    }
}
