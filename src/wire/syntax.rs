//! The lexical vocabulary every layer shares: token bytes (RFC 9110 §5.6.2), list items
//! (§5.6.1), hex digits, and the integer writer, which the response path uses instead of
//! `core::fmt`. Bytes in, values out; nothing here knows about requests or responses.

/// A `tchar` of RFC 9110 §5.6.2: the bytes of methods, field names and codings.
pub(crate) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `token` of RFC 9110 §5.6.2.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_byte)
}

/// A byte allowed in a field value or chunk extension: visible, space, tab, or obs-text.
pub(crate) fn is_field_byte(b: u8) -> bool {
    b == b'\t' || (b >= b' ' && b != 0x7f)
}

/// The elements of a comma-separated field value (RFC 9110 §5.6.1), without surrounding
/// whitespace; empty elements included.
pub(crate) fn list_items(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|&b| b == b',').map(<[u8]>::trim_ascii)
}

/// The value of an ASCII hex digit (either case).
pub(crate) fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Write `n` in decimal into the front of `out`; returns the number of bytes written, or
/// `None` if `out` is too short. Used instead of `core::fmt` on the response path.
pub(crate) fn write_decimal(mut n: u64, out: &mut [u8]) -> Option<usize> {
    // Digits by repeated subtraction of powers of ten: no 64-bit division, which 32-bit
    // MCUs do in software (about 900 bytes of flash on a Cortex-M3).
    let mut len = 0;
    for (i, power) in POWERS_OF_TEN.into_iter().enumerate() {
        let mut digit = b'0';
        while n >= power {
            n -= power;
            digit += 1;
        }
        if digit != b'0' || len > 0 || i == POWERS_OF_TEN.len() - 1 {
            *out.get_mut(len)? = digit;
            len += 1;
        }
    }
    Some(len)
}

/// Write `n` in lowercase hex into the front of `out` (at least one digit); returns the number
/// of bytes written. `out` must hold 16 bytes, or as many as `n` needs.
pub(crate) fn write_hex(n: u64, out: &mut [u8]) -> usize {
    let digits = (64 - (n | 1).leading_zeros()).div_ceil(4) as usize;
    for (i, slot) in out.iter_mut().take(digits).enumerate() {
        let nibble = (n >> (4 * (digits - 1 - i))) & 0xf;
        *slot = b"0123456789abcdef"[nibble as usize];
    }
    digits.min(out.len())
}

/// 10^19 down to 10^0.
const POWERS_OF_TEN: [u64; 20] = {
    let mut powers = [1u64; 20];
    let mut i = 19;
    while i > 0 {
        i -= 1;
        powers[i] = powers[i + 1] * 10;
    }
    powers
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_writer() {
        let mut b = [0u8; 20];
        for n in [0u64, 7, 10, 99, 100, 65535, u64::MAX] {
            let len = write_decimal(n, &mut b).unwrap();
            assert_eq!(&b[..len], n.to_string().as_bytes());
        }
        assert_eq!(write_decimal(100, &mut [0u8; 2]), None);
    }

    #[test]
    fn hex_writer_and_digits() {
        let mut b = [0u8; 16];
        for n in [0u64, 9, 10, 255, 0x1000, u64::MAX] {
            let len = write_hex(n, &mut b);
            assert_eq!(&b[..len], format!("{n:x}").as_bytes());
            let back = b[..len]
                .iter()
                .fold(0u64, |acc, &d| acc << 4 | u64::from(hex_value(d).unwrap()));
            assert_eq!(back, n);
        }
        assert_eq!(hex_value(b'g'), None);
    }

    #[test]
    fn tokens_and_lists() {
        assert!(is_token("X-Custom_1"));
        assert!(!is_token("a:b"));
        assert!(!is_token(""));
        assert_eq!(
            list_items(b" a , ,b").collect::<Vec<_>>(),
            [&b"a"[..], b"", b"b"]
        );
    }
}
