//! The few request headers the decision reads, borrowed from the host's map.

/// A header that must appear at most once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Single<'a> {
    #[default]
    Absent,
    One(&'a [u8]),
    /// Several lines: browsers never send that, so it matches no rule.
    Many,
}

impl<'a> Single<'a> {
    /// Envoy joins repeated lines of a header into one value with `,`
    /// before a filter sees it, and neither a serialized origin nor a method
    /// token ever holds a comma: such a value is several lines.
    fn push(&mut self, value: &'a [u8]) {
        *self = match self {
            Single::Absent if !value.contains(&b',') => Single::One(value),
            _ => Single::Many,
        }
    }

    pub fn is_present(&self) -> bool {
        !matches!(self, Single::Absent)
    }
}

/// Every line of a header that may repeat, in order. The first is held in
/// place: the usual single line costs no allocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lines<'a> {
    first: Option<&'a [u8]>,
    more: Vec<&'a [u8]>,
}

impl<'a> Lines<'a> {
    pub fn push(&mut self, line: &'a [u8]) {
        match self.first {
            None => self.first = Some(line),
            Some(_) => self.more.push(line),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + Clone + '_ {
        self.first.into_iter().chain(self.more.iter().copied())
    }

    pub fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.more.len()
    }

    pub fn is_empty(&self) -> bool {
        self.first.is_none()
    }
}

/// What the filter needs to know about a request.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    pub method: &'a [u8],
    /// `:authority` (the Host header).
    pub authority: &'a [u8],
    pub path: &'a [u8],
    /// `Origin`; an empty value counts as absent (spec §5).
    pub origin: Single<'a>,
    /// `Access-Control-Request-Method`.
    pub request_method: Single<'a>,
    /// Every `Access-Control-Request-Headers` line.
    pub request_headers: Lines<'a>,
    /// `x-request-id`, for the 403 body.
    pub request_id: &'a [u8],
}

impl<'a> Request<'a> {
    /// Picks the fields out of a header list (names lower case, as Envoy
    /// gives them; pseudo-headers included). Names are compared as bytes: a
    /// glue hands over its host's names without reading them as text.
    pub fn from_headers<I, N, V>(headers: I) -> Self
    where
        I: IntoIterator<Item = (&'a N, &'a V)>,
        N: AsRef<[u8]> + ?Sized + 'a,
        V: AsRef<[u8]> + ?Sized + 'a,
    {
        let mut r = Request::default();
        for (name, value) in headers {
            let value = value.as_ref();
            match name.as_ref() {
                b":method" => r.method = value,
                b":authority" => r.authority = value,
                b":path" => r.path = value,
                b"origin" if !value.is_empty() => r.origin.push(value),
                b"access-control-request-method" => r.request_method.push(value),
                b"access-control-request-headers" => r.request_headers.push(value),
                b"x-request-id" => r.request_id = value,
                _ => {}
            }
        }
        r
    }

    /// Spec §2.3: an `OPTIONS` request carrying both `Origin` and ACRM.
    pub fn is_preflight(&self) -> bool {
        self.method == b"OPTIONS" && self.origin.is_present() && self.request_method.is_present()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_origin_lines_are_many_and_empty_origin_is_absent() {
        let h: Vec<(String, Vec<u8>)> = vec![
            (":method".into(), b"OPTIONS".to_vec()),
            ("origin".into(), b"https://a.com".to_vec()),
            ("origin".into(), b"https://b.com".to_vec()),
            ("access-control-request-headers".into(), b"a".to_vec()),
            ("access-control-request-headers".into(), b"b".to_vec()),
        ];
        let r = Request::from_headers(h.iter().map(|(n, v)| (n.as_str(), v.as_slice())));
        assert_eq!(r.method, b"OPTIONS");
        assert_eq!(r.origin, Single::Many);
        assert_eq!(r.request_headers.len(), 2);
        let h = [("origin", &b"https://a.com,https://b.com"[..])];
        let r = Request::from_headers(h.iter().map(|(n, v)| (*n, *v)));
        assert_eq!(r.origin, Single::Many, "Envoy's join of two Origin lines");
        let h = [("access-control-request-method", &b"GET,PUT"[..])];
        let r = Request::from_headers(h.iter().map(|(n, v)| (*n, *v)));
        assert_eq!(r.request_method, Single::Many);
        let h = [("origin", &b""[..])];
        let r = Request::from_headers(h.iter().map(|(n, v)| (*n, *v)));
        assert_eq!(r.origin, Single::Absent);
    }
}
