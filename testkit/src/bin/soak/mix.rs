//! What the soak sends: the plugin configuration, the kinds of request with the answer each
//! must get (written from docs/spec.md through the spec crate), and the repeating mix.

use bucket_cors_spec::{counters, PREFLIGHT_VARY};
use bucket_cors_testkit::RawRequest;

/// The plugin configuration: the shape of envoy/envoy.yaml's.
pub const PLUGIN_CONFIG: &str = r#"{
  "endpoints": ["s3.localhost"],
  "path_style": true,
  "buckets": {
    "photos": {
      "CORSRule": [
        {
          "ID": "example-com-uploads",
          "AllowedOrigin": ["https://www.example.com", "https://*.example.com"],
          "AllowedMethod": ["GET", "PUT", "HEAD"],
          "AllowedHeader": ["content-type", "x-amz-meta-*"],
          "ExposeHeader": ["ETag", "x-amz-request-id"],
          "MaxAgeSeconds": 600
        }
      ],
      "ResponseVary": true
    },
    "public": {
      "CORSRule": [
        { "ID": "anyone-reads", "AllowedOrigin": ["*"], "AllowedMethod": ["GET", "HEAD"] }
      ]
    }
  },
  "default": null,
  "unmatched_preflight": "reject"
}"#;

/// The objects the requests read, put into the store before the load.
pub const OBJECTS: [(&str, &str, &[u8]); 2] = [
    ("photos", "cat.jpg", b"meow"),
    ("public", "logo.png", b"png"),
];

const WWW: &str = "https://www.example.com";
const APP: &str = "https://app.example.com";
const EVIL: &str = "https://evil.example.net";
const ANYONE: &str = "https://anyone.example.net";
/// A host under no endpoint: path-style addressing.
const PS: &str = "objects.local";
/// Virtual-hosted: bucket `photos`.
const VH: &str = "photos.s3.localhost";
/// The `Vary` of every response of a bucket with `ResponseVary` (the default; spec §4).
const ORIGIN: &str = "Origin";

/// The four families the mix is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Allowed,
    Refused,
    Preflight,
    NoOrigin,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::Allowed,
        Category::Refused,
        Category::Preflight,
        Category::NoOrigin,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Category::Allowed => "allowed",
            Category::Refused => "refused",
            Category::Preflight => "preflight",
            Category::NoOrigin => "no Origin",
        }
    }
}

/// One kind of request and the answer it must get.
pub struct Kind {
    pub label: &'static str,
    pub category: Category,
    /// The exact bytes sent.
    pub request: Vec<u8>,
    pub status: u16,
    /// The one `Access-Control-Allow-Origin` value (`None`: no such header).
    pub acao: Option<&'static str>,
    /// The one `Vary` value (`None`: no such header).
    pub vary: Option<&'static str>,
    /// The filter counter it increments (`None`: no Origin, nothing counted).
    pub counter: Option<&'static str>,
    /// How many of the mix's slots it takes.
    pub slots: usize,
}

fn preflight(host: &str, target: &str, origin: &str, method: &str) -> RawRequest {
    RawRequest::new("OPTIONS", host, target)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
}

fn get(target: &str, origin: Option<&str>) -> RawRequest {
    let r = RawRequest::new("GET", PS, target);
    match origin {
        Some(o) => r.header("Origin", o),
        None => r,
    }
}

/// Every kind, in the order of the mix.
pub fn kinds() -> Vec<Kind> {
    let kind = |label, category, request: RawRequest, status, acao, vary, counter, slots| Kind {
        label,
        category,
        request: request.to_bytes(),
        status,
        acao,
        vary,
        counter,
        slots,
    };
    use Category::*;
    let pv = Some(PREFLIGHT_VARY);
    vec![
        kind(
            "preflight allowed (exact origin)",
            Preflight,
            preflight(PS, "/photos/cat.jpg", WWW, "PUT").header(
                "Access-Control-Request-Headers",
                "Content-Type, x-amz-meta-a",
            ),
            200,
            Some(WWW),
            pv,
            Some(counters::PREFLIGHT_ALLOWED),
            3,
        ),
        kind(
            "preflight allowed (vhost, wildcard origin)",
            Preflight,
            preflight(VH, "/cat.jpg", APP, "GET"),
            200,
            Some(APP),
            pv,
            Some(counters::PREFLIGHT_ALLOWED),
            2,
        ),
        kind(
            "preflight refused (origin)",
            Preflight,
            preflight(PS, "/photos/cat.jpg", EVIL, "GET"),
            403,
            None,
            pv,
            Some(counters::PREFLIGHT_REFUSED_ORIGIN),
            2,
        ),
        kind(
            "preflight refused (method)",
            Preflight,
            preflight(PS, "/photos/cat.jpg", WWW, "DELETE"),
            403,
            None,
            pv,
            Some(counters::PREFLIGHT_REFUSED_METHOD),
            1,
        ),
        kind(
            "preflight refused (bucket without CORS)",
            Preflight,
            preflight(PS, "/private/x", WWW, "GET"),
            403,
            None,
            pv,
            Some(counters::PREFLIGHT_REFUSED_NO_CONFIGURATION),
            1,
        ),
        kind(
            "allowed GET (echo)",
            Allowed,
            get("/photos/cat.jpg", Some(WWW)),
            200,
            Some(WWW),
            Some(ORIGIN),
            Some(counters::ACTUAL_MATCHED),
            2,
        ),
        kind(
            "allowed GET (*)",
            Allowed,
            get("/public/logo.png", Some(ANYONE)),
            200,
            Some("*"),
            Some(ORIGIN),
            Some(counters::ACTUAL_MATCHED),
            1,
        ),
        kind(
            "allowed PUT (wildcard origin, body)",
            Allowed,
            RawRequest::new("PUT", PS, "/photos/upload.bin")
                .header("Origin", APP)
                .header("Content-Type", "application/octet-stream")
                .body(vec![b'x'; 256]),
            200,
            Some(APP),
            Some(ORIGIN),
            Some(counters::ACTUAL_MATCHED),
            1,
        ),
        kind(
            "refused GET (origin not allowed)",
            Refused,
            get("/photos/cat.jpg", Some(EVIL)),
            200,
            None,
            Some(ORIGIN),
            Some(counters::ACTUAL_UNMATCHED),
            2,
        ),
        kind(
            "refused GET (method not allowed)",
            Refused,
            RawRequest::new("DELETE", PS, "/photos/gone.bin").header("Origin", WWW),
            204,
            None,
            Some(ORIGIN),
            Some(counters::ACTUAL_UNMATCHED),
            1,
        ),
        kind(
            "no Origin (configured bucket)",
            NoOrigin,
            get("/photos/cat.jpg", None),
            200,
            None,
            Some(ORIGIN),
            None,
            3,
        ),
        kind(
            "no Origin (bucket without CORS)",
            NoOrigin,
            get("/private/x", None),
            404,
            None,
            None,
            None,
            1,
        ),
    ]
}

/// The repeating mix: each kind's index, as many times as it has slots, in table order
/// (20 slots: 45% preflights, 20% allowed, 15% refused, 20% no Origin).
pub fn mix(kinds: &[Kind]) -> Vec<usize> {
    kinds
        .iter()
        .enumerate()
        .flat_map(|(i, k)| std::iter::repeat_n(i, k.slots))
        .collect()
}

/// What a response should have been, in words (empty: as expected).
pub fn problems(kind: &Kind, status: u16, acao: &[&str], vary: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    if status != kind.status {
        out.push(format!("status {status} (want {})", kind.status));
    }
    for (name, got, want) in [("ACAO", acao, kind.acao), ("Vary", vary, kind.vary)] {
        let want: Vec<&str> = want.into_iter().collect();
        if got != want.as_slice() {
            out.push(format!("{name} {got:?} (want {want:?})"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_has_twenty_slots_in_the_documented_shares() {
        let kinds = kinds();
        let mix = mix(&kinds);
        assert_eq!(mix.len(), 20);
        let share = |c| mix.iter().filter(|&&i| kinds[i].category == c).count();
        assert_eq!(
            Category::ALL.map(share),
            [4, 3, 9, 4],
            "allowed, refused, preflight, no Origin"
        );
    }

    #[test]
    fn problems_name_each_difference() {
        let kinds = kinds();
        let k = &kinds[0];
        assert!(problems(k, 200, &["https://www.example.com"], &[PREFLIGHT_VARY]).is_empty());
        let p = problems(k, 403, &[], &[PREFLIGHT_VARY, "Origin"]);
        assert_eq!(p.len(), 3, "{p:?}");
    }
}
