//! A whole header map read from the host in one call, every name and value
//! borrowed from the one buffer the host filled (the SDK's reader allocated
//! two copies per header), and the same format written for a local reply.

use crate::abi::{self, HostBytes, Map};

/// The serialized map: a `u32` count, then a (name length, value length)
/// pair of `u32`s per header, then each name and value followed by a NUL.
pub struct HeaderMap {
    buf: HostBytes,
}

impl HeaderMap {
    /// Reads `map` from the host; `None` (logged) when the host refuses.
    pub fn read(map: Map) -> Option<HeaderMap> {
        match abi::header_map_pairs(map) {
            Ok(buf) => Some(HeaderMap { buf }),
            Err(status) => {
                log::warn!("cannot read {map:?}: host status {status:?}");
                None
            }
        }
    }

    /// Every (name, value), in order; a name that is not UTF-8 (Envoy never
    /// gives one) is skipped, a truncated buffer ends the list.
    pub fn pairs(&self) -> Pairs<'_> {
        Pairs::new(&self.buf)
    }
}

/// `headers` in the serialized map format (the headers of a local reply).
pub fn serialize<'a>(headers: impl Iterator<Item = (&'a str, &'a str)> + Clone) -> Vec<u8> {
    let (count, bytes) = headers.clone().fold((0usize, 0usize), |(n, b), (k, v)| {
        (n + 1, b + k.len() + v.len() + 2)
    });
    let mut out = Vec::with_capacity(4 + 8 * count + bytes);
    out.extend(len_u32(count));
    for (name, value) in headers.clone() {
        out.extend(len_u32(name.len()));
        out.extend(len_u32(value.len()));
    }
    for (name, value) in headers {
        out.extend(name.as_bytes());
        out.push(0);
        out.extend(value.as_bytes());
        out.push(0);
    }
    out
}

/// A length as the format's little-endian `u32` (header names and values
/// are far below 4 GiB; a larger one would be cut, never panic).
fn len_u32(n: usize) -> [u8; 4] {
    u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes()
}

/// Iterator over a serialized header map.
pub struct Pairs<'a> {
    buf: &'a [u8],
    count: usize,
    next: usize,
    data: usize,
}

impl<'a> Pairs<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        let count = read_u32(buf, 0).unwrap_or(0);
        Pairs {
            buf,
            count,
            next: 0,
            data: count.saturating_mul(8).saturating_add(4),
        }
    }

    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let end = self.data.checked_add(len)?;
        let bytes = self.buf.get(self.data..end)?;
        self.data = end.checked_add(1)?;
        Some(bytes)
    }
}

fn read_u32(buf: &[u8], at: usize) -> Option<usize> {
    let bytes = buf.get(at..at.checked_add(4)?)?;
    let bytes: [u8; 4] = bytes.try_into().ok()?;
    usize::try_from(u32::from_le_bytes(bytes)).ok()
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a str, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        while self.next < self.count {
            let at = 4 + self.next * 8;
            self.next += 1;
            let name_len = read_u32(self.buf, at)?;
            let value_len = read_u32(self.buf, at + 4)?;
            let name = self.take(name_len)?;
            let value = self.take(value_len)?;
            if let Ok(name) = std::str::from_utf8(name) {
                return Some((name, value));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serialize_raw(pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut out = (pairs.len() as u32).to_le_bytes().to_vec();
        for (n, v) in pairs {
            out.extend((n.len() as u32).to_le_bytes());
            out.extend((v.len() as u32).to_le_bytes());
        }
        for (n, v) in pairs {
            out.extend(*n);
            out.push(0);
            out.extend(*v);
            out.push(0);
        }
        out
    }

    #[test]
    fn pairs_borrow_names_and_values_in_order() {
        let buf = serialize_raw(&[
            (b":method", b"GET"),
            (b"origin", b"https://a.com"),
            (b"x", b"\xff\x00"),
        ]);
        let got: Vec<_> = Pairs::new(&buf).collect();
        assert_eq!(
            got,
            vec![
                (":method", &b"GET"[..]),
                ("origin", b"https://a.com"),
                ("x", b"\xff\x00")
            ]
        );
    }

    #[test]
    fn empty_truncated_or_lying_buffers_end_the_list_without_panic() {
        assert_eq!(Pairs::new(&[]).count(), 0);
        let buf = serialize_raw(&[(b"a", b"1"), (b"b", b"2")]);
        for cut in 0..buf.len() {
            let n = Pairs::new(&buf[..cut]).count();
            assert!(n <= 2);
        }
        let mut lying = buf.clone();
        lying[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Pairs::new(&lying).count() <= 2);
        let mut huge = buf;
        huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(Pairs::new(&huge).count(), 0);
    }

    #[test]
    fn serialize_writes_what_pairs_reads() {
        let headers = [
            ("content-type", "application/xml"),
            ("vary", ""),
            ("x", "1"),
        ];
        let buf = serialize(headers.iter().copied());
        assert_eq!(
            buf,
            serialize_raw(&[
                (b"content-type", b"application/xml"),
                (b"vary", b""),
                (b"x", b"1")
            ])
        );
        let back: Vec<_> = Pairs::new(&buf).collect();
        assert_eq!(
            back,
            vec![
                ("content-type", &b"application/xml"[..]),
                ("vary", b""),
                ("x", b"1")
            ]
        );
        assert_eq!(serialize(std::iter::empty()), 0u32.to_le_bytes());
    }

    #[test]
    fn a_name_that_is_not_utf8_is_skipped() {
        let buf = serialize_raw(&[(b"\xff", b"1"), (b"b", b"2")]);
        assert_eq!(Pairs::new(&buf).collect::<Vec<_>>(), vec![("b", &b"2"[..])]);
    }
}
