//! `bootstrap`: prints an Envoy bootstrap (JSON) from `bucket_cors_testkit::bootstrap`, the
//! generator the tests and the soak use, for drivers outside Rust (bench/bench.py).
//!
//! Usage: [`USAGE`].

use std::fs;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use bucket_cors_testkit::bootstrap::{Bootstrap, CorsPolicy, HttpFilter, WasmFilter};

const USAGE: &str = "\
usage: bootstrap --listen PORT --admin PORT [--out FILE]
         [--upstream IP:PORT [--route-timeout SECONDS] | --direct STATUS BODY]
         [--wasm NAME FILE CONFIG]...
         [--native-cors [--cors-origin O]... [--cors-origin-regex R]... [--cors-methods M]
          [--cors-headers H] [--cors-expose-headers E] [--cors-max-age S] [--cors-credentials]]

Filters come in the order given, before the router; none: the router alone. A wasm
filter's CONFIG is its configuration text, or @PATH to read it from a file (a large
plugin configuration does not fit on a command line). Without --upstream every request
is answered by Envoy (--direct, default 200 ok). Writes to stdout unless --out.";

/// What the command line asked for.
#[derive(Default)]
struct Args {
    listen: Option<u16>,
    admin: Option<u16>,
    out: Option<String>,
    upstream: Option<SocketAddr>,
    route_timeout: Option<Duration>,
    direct: Option<(u16, String)>,
    filters: Vec<HttpFilter>,
    /// Index in `filters` of the native CORS filter the `--cors-*` options fill.
    native: Option<usize>,
}

fn parse(argv: &[String]) -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = argv.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--listen" => a.listen = Some(number(&value()?)?),
            "--admin" => a.admin = Some(number(&value()?)?),
            "--out" => a.out = Some(value()?),
            "--upstream" => {
                let v = value()?;
                a.upstream = Some(v.parse().map_err(|e| format!("--upstream {v}: {e}"))?);
            }
            "--route-timeout" => {
                a.route_timeout = Some(Duration::from_secs(number(&value()?)?));
            }
            "--direct" => a.direct = Some((number(&value()?)?, value()?)),
            "--wasm" => {
                let (name, file, config) = (value()?, value()?, value()?);
                let configuration = match config.strip_prefix('@') {
                    Some(path) => fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?,
                    None => config,
                };
                a.filters.push(HttpFilter::Wasm(WasmFilter {
                    name,
                    file: file.into(),
                    configuration,
                }));
            }
            "--native-cors" => {
                a.native = Some(a.filters.len());
                a.filters
                    .push(HttpFilter::NativeCors(CorsPolicy::default()));
            }
            cors if cors.starts_with("--cors-") => {
                let Some(HttpFilter::NativeCors(p)) = a.native.and_then(|i| a.filters.get_mut(i))
                else {
                    return Err(format!("{cors} comes after --native-cors"));
                };
                match cors {
                    "--cors-origin" => p.origins.push(value()?),
                    "--cors-origin-regex" => p.origin_regexes.push(value()?),
                    "--cors-methods" => p.methods = value()?,
                    "--cors-headers" => p.headers = value()?,
                    "--cors-expose-headers" => p.expose_headers = value()?,
                    "--cors-max-age" => p.max_age = Some(number(&value()?)?),
                    "--cors-credentials" => p.credentials = true,
                    _ => return Err(format!("unknown option {cors}")),
                }
            }
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    Ok(a)
}

fn number<T: std::str::FromStr>(v: &str) -> Result<T, String> {
    v.parse().map_err(|_| format!("not a number: {v}"))
}

fn build(a: Args) -> Result<(String, Option<String>), String> {
    let (Some(listen), Some(admin)) = (a.listen, a.admin) else {
        return Err("--listen and --admin are required".into());
    };
    let mut b = match (a.upstream, a.direct) {
        (Some(_), Some(_)) => return Err("--upstream and --direct exclude each other".into()),
        (Some(up), None) => Bootstrap::to_upstream(listen, admin, up),
        (None, Some((status, body))) => Bootstrap::direct(listen, admin, status, &body),
        (None, None) => Bootstrap::direct(listen, admin, 200, "ok"),
    };
    if let Some(t) = a.route_timeout {
        b = b.route_timeout(t);
    }
    b.filters = a.filters;
    Ok((b.bootstrap(), a.out))
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let written = parse(&argv)
        .and_then(build)
        .and_then(|(text, out)| match out {
            Some(path) => fs::write(&path, text).map_err(|e| format!("{path}: {e}")),
            None => {
                print!("{text}");
                Ok(())
            }
        });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bootstrap: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
