//! Fast, allocation-free formatting into a byte buffer, plus civil-date math.

use std::io::{self, Write};

/// Buffers output in ~64 KiB chunks and hands whole chunks to the writer, so
/// callers need not wrap their writer in a `BufWriter`.
pub(crate) struct Chunked<W: Write> {
    out: W,
    pub buf: Vec<u8>,
}

const CHUNK: usize = 1 << 16;

impl<W: Write> Chunked<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            buf: Vec::with_capacity(CHUNK + 1024),
        }
    }

    #[inline]
    pub fn maybe_flush(&mut self) -> io::Result<()> {
        if self.buf.len() >= CHUNK {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    pub fn finish(mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        self.out.flush()
    }
}

#[inline]
pub(crate) fn push_u64(buf: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Two-digit zero-padded number (0..=99).
#[inline]
pub(crate) fn push_2d(buf: &mut Vec<u8>, v: u32) {
    buf.push(b'0' + (v / 10 % 10) as u8);
    buf.push(b'0' + (v % 10) as u8);
}

/// `cents` as a decimal with exactly two fraction digits: 12345 -> "123.45".
#[inline]
pub(crate) fn push_cents(buf: &mut Vec<u8>, cents: u64) {
    push_u64(buf, cents / 100);
    buf.push(b'.');
    push_2d(buf, (cents % 100) as u32);
}

/// `8-4-4-4-12` lowercase hex.
#[inline]
pub(crate) fn push_uuid(buf: &mut Vec<u8>, x: u128) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for i in 0..32 {
        if matches!(i, 8 | 12 | 16 | 20) {
            buf.push(b'-');
        }
        let nib = (x >> (124 - 4 * i)) & 0xF;
        buf.push(HEX[nib as usize]);
    }
}

/// Append a CSV field, quoting per RFC 4180 when it contains `,`, `"`, CR or LF.
pub(crate) fn push_csv_field(buf: &mut Vec<u8>, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        buf.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                buf.push(b'"');
            }
            buf.push(b);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(s.as_bytes());
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub(crate) fn is_valid_date(y: i32, m: u32, d: u32) -> bool {
    if !(1..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 {
        return false;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    d <= dim
}

/// "YYYY-MM-DD " for `offset` days after the start date.
pub(crate) fn date_prefix(start: (i32, u32, u32), offset: u32) -> Vec<u8> {
    let base = days_from_civil(i64::from(start.0), start.1, start.2);
    let (y, m, d) = civil_from_days(base + i64::from(offset));
    format!("{y:04}-{m:02}-{d:02} ").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_roundtrip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(
            civil_from_days(days_from_civil(2019, 10, 1) + 31),
            (2019, 11, 1)
        );
        assert_eq!(
            civil_from_days(days_from_civil(2020, 2, 28) + 1),
            (2020, 2, 29)
        );
        assert_eq!(date_prefix((2019, 12, 31), 1), b"2020-01-01 ");
        assert!(!is_valid_date(2019, 2, 29));
        assert!(is_valid_date(2020, 2, 29));
    }

    #[test]
    fn numbers() {
        let mut b = Vec::new();
        push_cents(&mut b, 5);
        b.push(b' ');
        push_cents(&mut b, 123_456);
        b.push(b' ');
        push_u64(&mut b, 0);
        b.push(b' ');
        push_u64(&mut b, u64::MAX);
        assert_eq!(b, b"0.05 1234.56 0 18446744073709551615");
        let mut u = Vec::new();
        push_uuid(&mut u, 0x0123_4567_89ab_cdef_0011_2233_4455_6677);
        assert_eq!(u, b"01234567-89ab-cdef-0011-223344556677");
        let mut c = Vec::new();
        push_csv_field(&mut c, "Acme TV 55\", black");
        assert_eq!(c, b"\"Acme TV 55\"\", black\"");
    }
}
