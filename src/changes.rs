//! A change of a bucket's rules through this gateway, told to every VM of
//! this Envoy (docs/spec.md §8): each VM (one per worker) has its own cache,
//! so the VM that saw the store accept a `PUT`/`DELETE ?cors` drops its own
//! answer and enqueues the bucket on every other VM's shared queue; each
//! root context drops it when its queue is ready. Nothing is paid per
//! request: only a change costs host calls.

use proxy_wasm::hostcalls;
use proxy_wasm::types::Status;

/// The shared-data key counting the queues registered so far; queue `i`
/// is named [`queue_name`]`(i)`.
const QUEUES: &str = "bucket-cors.change-queues";

fn queue_name(index: u32) -> String {
    format!("bucket-cors.changes.{index}")
}

/// This VM's end of the feed.
pub struct ChangeFeed {
    vm_id: String,
    index: u32,
    queue: u32,
}

impl ChangeFeed {
    /// Registers this VM's queue under the next free index; `None` (logged)
    /// when the host refuses: changes then reach other VMs only through
    /// their refresh.
    pub fn register() -> Option<ChangeFeed> {
        let registered = (|| -> Result<ChangeFeed, Status> {
            let vm_id = hostcalls::get_property(vec!["plugin_vm_id"])?
                .map(|v| String::from_utf8_lossy(&v).into_owned())
                .unwrap_or_default();
            let index = claim_index()?;
            let queue = hostcalls::register_shared_queue(&queue_name(index))?;
            Ok(ChangeFeed {
                vm_id,
                index,
                queue,
            })
        })();
        match registered {
            Ok(feed) => Some(feed),
            Err(status) => {
                log::warn!(
                    "cannot register the queue of rules changes ({status:?}); other workers see a change within refresh_seconds"
                );
                None
            }
        }
    }

    /// Tells every other VM that `bucket`'s rules changed.
    pub fn publish(&self, bucket: &str) {
        let count = match registered_count() {
            Ok((count, _)) => count,
            Err(status) => {
                log::warn!("cannot read the queues of rules changes: {status:?}");
                return;
            }
        };
        for index in (0..count).filter(|i| *i != self.index) {
            let sent = hostcalls::resolve_shared_queue(&self.vm_id, &queue_name(index)).and_then(
                |queue| match queue {
                    Some(queue) => hostcalls::enqueue_shared_queue(queue, Some(bucket.as_bytes())),
                    None => Ok(()),
                },
            );
            if let Err(status) = sent {
                log::warn!(
                    "cannot tell worker queue {index} of bucket {bucket:?}'s change: {status:?}"
                );
            }
        }
    }

    /// The buckets other VMs changed, when this VM's queue is ready.
    pub fn take(&self, queue: u32) -> Vec<String> {
        let mut buckets = Vec::new();
        if queue != self.queue {
            return buckets;
        }
        while let Ok(Some(bucket)) = hostcalls::dequeue_shared_queue(queue) {
            buckets.push(String::from_utf8_lossy(&bucket).into_owned());
        }
        buckets
    }
}

/// The number of queues registered, and the shared datum's version.
fn registered_count() -> Result<(u32, Option<u32>), Status> {
    let (value, cas) = hostcalls::get_shared_data(QUEUES)?;
    let count = value
        .and_then(|v| std::str::from_utf8(&v).ok()?.parse().ok())
        .unwrap_or(0);
    Ok((count, cas))
}

/// Takes the next queue index, by compare-and-swap on the shared count:
/// every VM of the Envoy runs this at once at start.
fn claim_index() -> Result<u32, Status> {
    loop {
        let (count, cas) = registered_count()?;
        let next = count.saturating_add(1).to_string();
        match hostcalls::set_shared_data(QUEUES, Some(next.as_bytes()), cas) {
            Ok(()) => return Ok(count),
            Err(Status::CasMismatch) => continue,
            Err(status) => return Err(status),
        }
    }
}
