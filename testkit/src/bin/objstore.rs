//! `objstore --listen 127.0.0.1:PORT [--reflect-cors]`: the test object store as a process
//! (for `make run`). Logs one line per request to stderr. `--reflect-cors` answers CORS like
//! MinIO community's default handler (every Origin reflected with credentials), to see what
//! `upstream_cors` keeps from a browser.

use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!("usage: objstore --listen 127.0.0.1:PORT [--reflect-cors]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut listen = None;
    let mut reflect_cors = false;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--listen" if i + 1 < args.len() => {
                listen = Some(args[i + 1].clone());
                i += 2;
            }
            a if a.starts_with("--listen=") => {
                listen = Some(a["--listen=".len()..].to_string());
                i += 1;
            }
            "--reflect-cors" => {
                reflect_cors = true;
                i += 1;
            }
            "-h" | "--help" => {
                let _ = usage();
                return ExitCode::SUCCESS;
            }
            _ => return usage(),
        }
    }
    let Some(listen) = listen else { return usage() };
    match bucket_cors_testkit::ObjStore::start_with(listen.as_str(), true, reflect_cors) {
        Ok(store) => {
            eprintln!("objstore: listening on http://{}", store.addr());
            store.wait();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("objstore: cannot listen on {listen}: {e}");
            ExitCode::FAILURE
        }
    }
}
