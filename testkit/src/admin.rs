//! Envoy's admin interface as the suites read it: one reader of `/stats` for every suite
//! (the e2e, operations and browser suites, the soak, and the integration crate's SDK suite).
//! [`Admin`] is `Copy`, so a page server's thread can hold one while the test holds the
//! [`crate::Envoy`].

use std::collections::BTreeMap;
use std::io::{self, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::envoy::Build;
use crate::http;
use crate::spec::counters;

/// Counter values by name.
pub type Counters = BTreeMap<String, u64>;

/// The admin interface of one running Envoy, and the build of bucket-cors it runs (which
/// decides the `/stats` names of the filter's counters).
#[derive(Debug, Clone, Copy)]
pub struct Admin {
    addr: SocketAddr,
    build: Build,
}

impl Admin {
    pub(crate) fn new(addr: SocketAddr, build: Build) -> Admin {
        Admin { addr, build }
    }

    /// The admin address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// GET `path`: (status, body).
    pub fn get(&self, path: &str) -> io::Result<(u16, String)> {
        let s = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1))?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        s.set_write_timeout(Some(Duration::from_secs(5)))?;
        let mut w = s.try_clone()?;
        write!(
            w,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )?;
        let mut r = BufReader::new(s);
        let head = http::read_head(&mut r)?
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "no response"))?;
        let status = head
            .start_line
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let framing = http::framing(&head.headers, true)?;
        let body = http::read_body(&mut r, framing)?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    /// The counters, gauges and text readouts of `/stats` whose names contain `filter`
    /// (`None`: all), as name → value (text readouts without their quotes). Histograms are
    /// left out.
    pub fn stats(&self, filter: Option<&str>) -> io::Result<BTreeMap<String, String>> {
        let (status, body) = self.get("/stats")?;
        if status != 200 {
            return Err(io::Error::other(format!("/stats answered {status}")));
        }
        let mut out = BTreeMap::new();
        for line in body.lines() {
            let Some((name, value)) = line.split_once(": ") else {
                continue;
            };
            if filter.is_some_and(|f| !name.contains(f)) {
                continue;
            }
            let value = value.trim();
            if value.starts_with("P0(") || value.contains(" P0(") || value == "No recorded values" {
                continue;
            }
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            out.insert(name.to_string(), value.to_string());
        }
        Ok(out)
    }

    /// The value of one counter or gauge of `/stats` (`None`: Envoy does not show it).
    pub fn counter(&self, name: &str) -> io::Result<Option<u64>> {
        Ok(self
            .stats(Some(name))?
            .get(name)
            .and_then(|v| v.parse().ok()))
    }

    /// The counters and gauges `names` (their full `/stats` names), read in one `/stats`; an
    /// error names any that Envoy does not show or that is not a number.
    pub fn counters(&self, names: &[String]) -> io::Result<Counters> {
        let stats = self.stats(None)?;
        let mut out = Counters::new();
        for name in names {
            let value = stats
                .get(name)
                .ok_or_else(|| io::Error::other(format!("/stats shows no {name}")))?;
            let value = value
                .parse()
                .map_err(|_| io::Error::other(format!("/stats {name} = {value:?} is no count")))?;
            out.insert(name.clone(), value);
        }
        Ok(out)
    }

    /// The filter's counters ([`counters::ALL`]) by their spec name, the build's prefix
    /// (`wasmcustom.` or `dynamicmodulescustom.`) taken off; an error names a missing one.
    pub fn filter_counters(&self) -> io::Result<Counters> {
        let names: Vec<String> = counters::ALL
            .iter()
            .map(|c| self.build.stats_name(c))
            .collect();
        let by_stats_name = self.counters(&names)?;
        Ok(counters::ALL
            .iter()
            .zip(&names)
            .filter_map(|(c, name)| Some((c.to_string(), *by_stats_name.get(name)?)))
            .collect())
    }
}
