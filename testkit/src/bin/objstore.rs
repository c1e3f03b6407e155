//! `objstore --listen 127.0.0.1:PORT [--reflect-cors]`: the test object store as a process
//! (for `make run`). Logs one line per request to stderr.

use std::process::ExitCode;

use clap::Parser;

/// The testkit object store as a process: an in-memory S3-like store on loopback.
#[derive(Parser)]
#[command(name = "objstore")]
struct Args {
    /// Where to listen.
    #[arg(long, value_name = "127.0.0.1:PORT")]
    listen: String,
    /// Answer CORS like MinIO community's default handler (every Origin reflected with
    /// credentials), to see what `upstream_cors` keeps from a browser.
    #[arg(long)]
    reflect_cors: bool,
}

fn main() -> ExitCode {
    let a = Args::parse();
    match bucket_cors_testkit::ObjStore::start_with(a.listen.as_str(), true, a.reflect_cors) {
        Ok(store) => {
            eprintln!("objstore: listening on http://{}", store.addr());
            store.wait();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("objstore: cannot listen on {}: {e}", a.listen);
            ExitCode::FAILURE
        }
    }
}
