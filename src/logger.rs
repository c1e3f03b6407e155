//! The `log` crate's records go to Envoy's log (`proxy_log`), and a panic
//! is logged at critical level before the VM aborts.

use crate::abi::{self, LogLevel};
use log::{Level, LevelFilter, Log, Metadata, Record};

struct HostLogger;

static LOGGER: HostLogger = HostLogger;

impl Log for HostLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let level = match record.level() {
            Level::Error => LogLevel::Error,
            Level::Warn => LogLevel::Warn,
            Level::Info => LogLevel::Info,
            Level::Debug => LogLevel::Debug,
            Level::Trace => LogLevel::Trace,
        };
        abi::log(level, &record.args().to_string());
    }

    fn flush(&self) {}
}

/// Installs the logger at info level and the panic hook (once, at start).
pub fn install() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(LevelFilter::Info);
    }
    std::panic::set_hook(Box::new(|info| {
        abi::log(LogLevel::Critical, &info.to_string())
    }));
}

/// Follows Envoy's log level for this plugin, so that debug lines cross the
/// Wasm boundary only when someone asked for them.
pub fn follow_host_level() {
    if let Ok(level) = abi::log_level() {
        log::set_max_level(match level {
            0 => LevelFilter::Trace,
            1 => LevelFilter::Debug,
            2 => LevelFilter::Info,
            3 => LevelFilter::Warn,
            4 => LevelFilter::Error,
            _ => LevelFilter::Off,
        });
    }
}
