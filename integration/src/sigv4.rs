//! Signed S3 requests from the host side, made the way a user makes them from a shell: curl
//! with `--aws-sigv4` (curl signs; this module only builds the command line and reads the
//! answer). Used to look at the store directly (an object's size after the browser's upload)
//! and to drive the compose stack.

use std::fs;
use std::process::{Command, Stdio};

use crate::garage::{Key, REGION};
use crate::temp_dir;

/// One HTTP answer as curl printed it.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// Header lines in order, names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Splits curl's `--include` output: the last header block (a `100 Continue` comes first
/// when there is one) and the body.
pub fn parse_included(out: &[u8]) -> Reply {
    let mut rest = out;
    loop {
        let end = rest
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("no header block in {:?}", String::from_utf8_lossy(out)));
        let head = String::from_utf8_lossy(&rest[..end]).into_owned();
        let body = &rest[end + 4..];
        let mut lines = head.lines();
        let status_line = lines.next().unwrap_or("");
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if status == 100 {
            rest = body;
            continue;
        }
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        return Reply {
            status,
            headers,
            body: body.to_vec(),
        };
    }
}

/// Runs curl with `args` (its options and URL) plus `--include`, and parses the answer.
pub fn curl(args: &[String]) -> Reply {
    let out = Command::new("curl")
        // No `-H "Expect:"` to drop curl's 100-continue: `--aws-sigv4` would sign the removed
        // header and Garage refuses a signed header that is not there.
        .args(["-sS", "--include", "--max-time", "30"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run curl (apt-get install curl)");
    assert!(
        out.status.success(),
        "curl {args:?}: {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    parse_included(&out.stdout)
}

/// A SigV4-signed request with `key` (service `s3`, Garage's region). `HEAD` is sent as
/// curl's `--head`; a body is sent from a file, as `--data-binary @file`.
pub fn signed(
    key: &Key,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Reply {
    let mut args: Vec<String> = vec![
        "--aws-sigv4".into(),
        format!("aws:amz:{REGION}:s3"),
        "--user".into(),
        format!("{}:{}", key.id, key.secret),
        // S3 wants the payload's hash named in a signed header; Garage takes this form.
        "-H".into(),
        "x-amz-content-sha256: UNSIGNED-PAYLOAD".into(),
    ];
    for (n, v) in headers {
        args.push("-H".into());
        args.push(format!("{n}: {v}"));
    }
    if method == "HEAD" {
        args.push("--head".into());
    } else {
        args.push("-X".into());
        args.push(method.into());
    }
    let dir = body.map(|b| {
        let dir = temp_dir("curl-body");
        fs::write(dir.join("body"), b).expect("write the request body");
        args.push("--data-binary".into());
        args.push(format!("@{}", dir.join("body").display()));
        dir
    });
    args.push(url.into());
    let reply = curl(&args);
    if let Some(dir) = dir {
        let _ = fs::remove_dir_all(dir);
    }
    reply
}
