//! Order-preserving parallel map for the steps that handle statements one at a time (parse and
//! lower, rendering findings). Standard threads only: the work splits into one contiguous slice per
//! core, so there is nothing to schedule and no dependency to pay for.

use std::num::NonZeroUsize;
use std::thread;

/// Below this many items a thread costs more than it saves (a thread starts in tens of
/// microseconds; a statement parses in a few).
const MIN_PER_THREAD: usize = 512;

/// Worker stacks as large as a main thread's, so a deeply nested statement that parses on the
/// main thread also parses on a worker (sqlparser and the lowering recurse over the syntax tree).
const STACK: usize = 8 << 20;

/// `items.iter().map(f).collect()`, spread over the machine's cores. Falls back to one thread for
/// small inputs, on a single core, or when the system refuses a thread.
pub(crate) fn map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    map_per(items, MIN_PER_THREAD, f)
}

/// [`map`] for few items that are each much work (parts of a text): a thread per item, up to the
/// number of cores.
pub(crate) fn map_each<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    map_per(items, 1, f)
}

/// The number of cores this process may use, asked once: the standard library reads the cgroup
/// quota files on every call (several system calls), and the pass asks for each DO body it reads
/// (a tenth of the run's time at 20,000 statements before it was kept).
pub(crate) fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| thread::available_parallelism().map_or(1, NonZeroUsize::get))
}

fn map_per<T: Sync, U: Send>(
    items: &[T],
    min_per_thread: usize,
    f: impl Fn(&T) -> U + Sync,
) -> Vec<U> {
    let cores = cores();
    let threads = cores.min(items.len() / min_per_thread).max(1);
    if threads == 1 {
        return items.iter().map(&f).collect();
    }
    let per = items.len().div_ceil(threads);
    let f = &f;
    thread::scope(|scope| {
        let mut chunks = items.chunks(per);
        // The first slice runs on this thread, the others on workers.
        let first = chunks.next().unwrap_or_default();
        let workers: Vec<_> = chunks
            .map(|chunk| {
                let handle = thread::Builder::new()
                    .stack_size(STACK)
                    .spawn_scoped(scope, move || chunk.iter().map(f).collect::<Vec<U>>());
                (chunk, handle)
            })
            .collect();
        let mut out: Vec<U> = Vec::with_capacity(items.len());
        out.extend(first.iter().map(f));
        for (chunk, handle) in workers {
            match handle.map(|h| h.join()) {
                Ok(Ok(part)) => out.extend(part),
                // No thread: do that slice here.
                Err(_) => out.extend(chunk.iter().map(f)),
                // A panic on a worker is a panic of this call, as it would be on one thread.
                Ok(Err(payload)) => std::panic::resume_unwind(payload),
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_length() {
        for n in [0, 1, 511, 512, 1024, 5000, 10_007] {
            let items: Vec<usize> = (0..n).collect();
            let out = map(&items, |i| i * 3);
            assert_eq!(
                out,
                items.iter().map(|i| i * 3).collect::<Vec<_>>(),
                "n = {n}"
            );
        }
    }
}
