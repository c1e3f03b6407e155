//! The AWS CLI (v1, from PyPI), as a tenant runs it: `aws s3api ... --endpoint-url <Envoy>`
//! with the store's key in its environment. `make awscli` installs it into a virtualenv in the
//! cache (`AWS_CLI`, default `~/.cache/bucket-cors/awscli-1.45.11/bin/aws`); a missing binary is
//! a failure that says to run `make test-integration`.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::garage::{Key, REGION};

/// `AWS_CLI`, or the binary `make awscli` installs.
pub fn aws_bin() -> PathBuf {
    crate::tool_bin("AWS_CLI", "awscli-1.45.11/bin/aws")
}

/// What one `aws` run printed.
#[derive(Debug, Clone)]
pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// `aws s3api <args> --endpoint-url <endpoint>` with `key` (Garage's region), reading no
/// configuration file of the user's.
pub fn s3api(key: &Key, endpoint: &str, args: &[&str]) -> Run {
    let bin = aws_bin();
    assert!(
        bin.is_file(),
        "awscli not found at {} (set AWS_CLI, or run `make test-integration`, which installs it)",
        bin.display()
    );
    let out = Command::new(&bin)
        .arg("s3api")
        .args(args)
        .args(["--endpoint-url", endpoint])
        .env("AWS_ACCESS_KEY_ID", &key.id)
        .env("AWS_SECRET_ACCESS_KEY", &key.secret)
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", bin.display()));
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
