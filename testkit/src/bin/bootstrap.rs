//! `bootstrap`: prints an Envoy bootstrap (JSON) from `bucket_cors_testkit::bootstrap`, the
//! generator the tests and the soak use, for drivers outside Rust (bench/bench.py).
//! `bootstrap --help` lists the options.

use std::fs;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use bucket_cors_testkit::bootstrap::{Bootstrap, CorsPolicy, HttpFilter, WasmFilter};
use clap::Parser;

/// An Envoy bootstrap (JSON): one listener on 127.0.0.1 whose HTTP filters come before the
/// router in this order: the native CORS filter, the Wasm filters as given, the module. Without
/// --upstream every request is answered by Envoy itself (--direct, default 200 ok).
#[derive(Parser)]
#[command(name = "bootstrap")]
struct Args {
    /// The listener's port.
    #[arg(long, value_name = "PORT")]
    listen: u16,
    /// The admin interface's port.
    #[arg(long, value_name = "PORT")]
    admin: u16,
    /// Write here instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Route every request to this upstream (one cluster).
    #[arg(long, value_name = "IP:PORT", conflicts_with = "direct")]
    upstream: Option<SocketAddr>,
    /// The route timeout to the upstream, in seconds.
    #[arg(long, value_name = "SECONDS", requires = "upstream")]
    route_timeout: Option<u64>,
    /// Envoy answers every request itself with this status and body.
    #[arg(long, num_args = 2, value_names = ["STATUS", "BODY"])]
    direct: Option<Vec<String>>,
    /// A proxy-wasm filter named NAME (also its root_id and vm_id) from FILE; CONFIG is its
    /// configuration text, or @PATH to read it from a file (a large plugin configuration does
    /// not fit on a command line). Repeatable.
    #[arg(long, num_args = 3, value_names = ["NAME", "FILE", "CONFIG"], action = clap::ArgAction::Append)]
    wasm: Vec<String>,
    /// The bucket-cors dynamic module from FILE (libbucket_cors_module.so) with the plugin
    /// configuration CONFIG (text, or @PATH).
    #[arg(long, num_args = 2, value_names = ["FILE", "CONFIG"])]
    module: Option<Vec<String>>,
    /// Envoy's own CORS filter, with the policy of the --cors-* options on the virtual host.
    #[arg(long)]
    native_cors: bool,
    /// An origin allowed exactly. Repeatable.
    #[arg(long = "cors-origin", value_name = "ORIGIN", requires = "native_cors")]
    cors_origins: Vec<String>,
    /// An origin allowed by an RE2 regular expression. Repeatable.
    #[arg(
        long = "cors-origin-regex",
        value_name = "REGEX",
        requires = "native_cors"
    )]
    cors_origin_regexes: Vec<String>,
    /// allow_methods, comma-separated.
    #[arg(
        long,
        value_name = "METHODS",
        requires = "native_cors",
        default_value = ""
    )]
    cors_methods: String,
    /// allow_headers, comma-separated.
    #[arg(
        long,
        value_name = "HEADERS",
        requires = "native_cors",
        default_value = ""
    )]
    cors_headers: String,
    /// expose_headers, comma-separated.
    #[arg(
        long,
        value_name = "HEADERS",
        requires = "native_cors",
        default_value = ""
    )]
    cors_expose_headers: String,
    /// max_age, in seconds.
    #[arg(long, value_name = "SECONDS", requires = "native_cors")]
    cors_max_age: Option<u64>,
    /// allow_credentials.
    #[arg(long, requires = "native_cors")]
    cors_credentials: bool,
}

/// A configuration given as text, or as @PATH of a file that holds it.
fn config_text(arg: &str) -> Result<String, String> {
    match arg.strip_prefix('@') {
        Some(path) => fs::read_to_string(path).map_err(|e| format!("{path}: {e}")),
        None => Ok(arg.to_string()),
    }
}

fn build(a: Args) -> Result<String, String> {
    let mut b = match a.direct.as_deref() {
        Some([status, body]) => {
            let status = status
                .parse()
                .map_err(|_| format!("--direct: {status} is not an HTTP status"))?;
            Bootstrap::direct(a.listen, a.admin, status, body)
        }
        _ => match a.upstream {
            Some(up) => Bootstrap::to_upstream(a.listen, a.admin, up),
            None => Bootstrap::direct(a.listen, a.admin, 200, "ok"),
        },
    };
    if let Some(t) = a.route_timeout {
        b = b.route_timeout(Duration::from_secs(t));
    }
    if a.native_cors {
        b = b.filter(HttpFilter::NativeCors(CorsPolicy {
            origins: a.cors_origins,
            origin_regexes: a.cors_origin_regexes,
            methods: a.cors_methods,
            headers: a.cors_headers,
            expose_headers: a.cors_expose_headers,
            max_age: a.cors_max_age,
            credentials: a.cors_credentials,
        }));
    }
    for w in a.wasm.chunks(3) {
        if let [name, file, config] = w {
            b = b.filter(HttpFilter::Wasm(WasmFilter {
                name: name.clone(),
                file: file.into(),
                configuration: config_text(config)?,
            }));
        }
    }
    if let Some([file, config]) = a.module.as_deref() {
        b = b.filter(HttpFilter::bucket_cors_module(
            Some(file.into()),
            &config_text(config)?,
        ));
    }
    Ok(b.bootstrap())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let out = args.out.clone();
    let written = build(args).and_then(|text| match &out {
        Some(path) => fs::write(path, text).map_err(|e| format!("{}: {e}", path.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bootstrap: {e}");
            ExitCode::from(2)
        }
    }
}
