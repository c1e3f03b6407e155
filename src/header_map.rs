//! A whole header map read from the host in one call, every name and value
//! borrowed from the one buffer the host filled: the SDK's reader allocates
//! two copies per header and panics on an unexpected status.

use proxy_wasm::types::MapType;
use std::ptr::null_mut;

#[link(wasm_import_module = "env")]
extern "C" {
    /// The proxy-wasm ABI call behind the SDK's `get_map_bytes`; the status
    /// is read as a plain `u32` (0 is OK) so no host value can be an invalid
    /// enum discriminant.
    fn proxy_get_header_map_pairs(
        map_type: MapType,
        return_map_data: *mut *mut u8,
        return_map_size: *mut usize,
    ) -> u32;
}

/// The serialized map: a `u32` count, then a (name length, value length)
/// pair of `u32`s per header, then each name and value followed by a NUL.
pub struct HeaderMap {
    buf: Vec<u8>,
}

impl HeaderMap {
    /// Reads `map` from the host; `None` (logged) when the host refuses.
    pub fn read(map: MapType) -> Option<HeaderMap> {
        let mut data: *mut u8 = null_mut();
        let mut size: usize = 0;
        // SAFETY: the host writes a pointer it obtained from this module's
        // `proxy_on_memory_allocate` (the SDK's `Vec::with_capacity(size)`,
        // forgotten) and its size; the `Vec` takes that allocation back with
        // the same length and capacity, as the SDK's own reader does.
        unsafe {
            match proxy_get_header_map_pairs(map, &mut data, &mut size) {
                0 if data.is_null() => Some(HeaderMap { buf: Vec::new() }),
                0 => Some(HeaderMap {
                    buf: Vec::from_raw_parts(data, size, size),
                }),
                status => {
                    log::warn!("cannot read {map:?}: host status {status}");
                    None
                }
            }
        }
    }

    /// Every (name, value), in order; a name that is not UTF-8 (Envoy never
    /// gives one) is skipped, a truncated buffer ends the list.
    pub fn pairs(&self) -> Pairs<'_> {
        Pairs::new(&self.buf)
    }
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

    fn serialize(pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
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
        let buf = serialize(&[
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
        let buf = serialize(&[(b"a", b"1"), (b"b", b"2")]);
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
    fn a_name_that_is_not_utf8_is_skipped() {
        let buf = serialize(&[(b"\xff", b"1"), (b"b", b"2")]);
        assert_eq!(Pairs::new(&buf).collect::<Vec<_>>(), vec![("b", &b"2"[..])]);
    }
}
