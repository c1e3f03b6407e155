//! Envoy's contexts in this VM, by id: a root context per plugin
//! configuration and an HTTP context per stream. The exported callbacks
//! (`abi.rs`) land here.

use crate::filter::{Action, CorsFilter};
use crate::root::CorsRoot;
use std::cell::RefCell;
use std::collections::BTreeMap;

#[derive(Default)]
struct Contexts {
    roots: BTreeMap<u32, CorsRoot>,
    streams: BTreeMap<u32, CorsFilter>,
}

thread_local! {
    static CONTEXTS: RefCell<Contexts> = RefCell::new(Contexts::default());
}

/// Runs `f` on the table. The host never calls back into these callbacks
/// while one runs (a local reply is sent after the callback returns), so the
/// table is free; if it were not, the callback does nothing rather than panic.
fn with<R>(default: R, f: impl FnOnce(&mut Contexts) -> R) -> R {
    CONTEXTS.with(|c| match c.try_borrow_mut() {
        Ok(mut c) => f(&mut c),
        Err(_) => {
            log::error!("re-entrant proxy-wasm callback ignored");
            default
        }
    })
}

pub fn create(id: u32, parent_id: u32) {
    with((), |c| {
        if parent_id == 0 {
            c.roots.insert(id, CorsRoot::default());
        } else {
            // A stream of an unknown root (never seen) gets no policy: it passes.
            let filter = match c.roots.get(&parent_id) {
                Some(root) => root.new_filter(),
                None => CorsFilter::new(None, None),
            };
            c.streams.insert(id, filter);
        }
    });
}

pub fn vm_start(root_id: u32) -> bool {
    with(false, |c| {
        c.roots.get_mut(&root_id).is_some_and(CorsRoot::on_vm_start)
    })
}

pub fn configure(root_id: u32, size: usize) -> bool {
    with(false, |c| {
        c.roots
            .get_mut(&root_id)
            .is_some_and(|root| root.on_configure(size))
    })
}

pub fn request_headers(id: u32) -> Action {
    with(Action::Continue, |c| match c.streams.get_mut(&id) {
        Some(filter) => filter.on_request_headers(),
        None => Action::Continue,
    })
}

pub fn response_headers(id: u32) -> Action {
    with(Action::Continue, |c| match c.streams.get_mut(&id) {
        Some(filter) => filter.on_response_headers(),
        None => Action::Continue,
    })
}

pub fn delete(id: u32) {
    with((), |c| {
        if c.streams.remove(&id).is_none() {
            c.roots.remove(&id);
        }
    });
}
