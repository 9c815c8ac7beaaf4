//! Order-preserving parallel map for the steps that handle statements one at a time (parse and
//! lower, rendering findings). Standard threads only: [`map`] splits the work into one contiguous
//! slice per core, so there is nothing to schedule and no dependency to pay for; [`stream`] hands
//! the results over in order while the workers go on, so that a sequential consumer (the pass)
//! overlaps with the work it consumes.

use std::num::NonZeroUsize;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;

/// Below this many items a thread costs more than it saves (a thread starts in tens of
/// microseconds; a statement parses in a few).
pub(crate) const MIN_PER_THREAD: usize = 512;

/// Worker stacks as large as a main thread's, so a deeply nested statement that parses on the
/// main thread also parses on a worker (sqlparser and the lowering recurse over the syntax tree).
const STACK: usize = 8 << 20;

/// `items.iter().map(f).collect()`, spread over the machine's cores. Falls back to one thread for
/// small inputs, on a single core, or when the system refuses a thread.
pub(crate) fn map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    map_per(items, MIN_PER_THREAD, f)
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
    let parent = this_cpu();
    thread::scope(|scope| {
        let mut chunks = items.chunks(per);
        // The first slice runs on this thread, the others on workers.
        let first = chunks.next().unwrap_or_default();
        let workers: Vec<_> = chunks
            .map(|chunk| {
                let handle = worker(scope, parent, move || {
                    chunk.iter().map(f).collect::<Vec<U>>()
                });
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

/// Results per chunk, in order, handed from the workers to the consumer.
struct Shared<U> {
    /// The next chunk nobody has claimed yet.
    claim: AtomicUsize,
    /// Per chunk: its results (or a worker's panic) once mapped, until the consumer takes them.
    ready: Mutex<Vec<Option<thread::Result<Vec<U>>>>>,
    done: Condvar,
}

impl<U> Shared<U> {
    fn ready(&self) -> MutexGuard<'_, Vec<Option<thread::Result<Vec<U>>>>> {
        // Nothing panics while holding the lock (a worker's panic is caught before it stores).
        self.ready.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The consumer's end of [`stream`]: `f`'s results in item order, a chunk at a time.
pub(crate) struct Pull<'s, T, U> {
    items: &'s [T],
    f: &'s (dyn Fn(&T) -> U + Sync),
    per: usize,
    chunks: usize,
    shared: &'s Shared<U>,
    /// The next chunk to hand over.
    next: usize,
}

impl<T, U> Pull<'_, T, U> {
    /// Whether every result has been handed over.
    pub(crate) fn is_done(&self) -> bool {
        self.next >= self.chunks
    }

    /// Appends the next chunk's results to `out`; false when there are none left. When the chunk
    /// is not ready, this thread maps an unclaimed chunk itself rather than wait (it is one of
    /// the cores), and waits only when every chunk is claimed. A panic in `f` on a worker is
    /// raised here, when its chunk is due, as it would have been on one thread.
    pub(crate) fn next_into(&mut self, out: &mut Vec<U>) -> bool {
        while !self.is_done() {
            let taken = self
                .shared
                .ready()
                .get_mut(self.next)
                .and_then(Option::take);
            match taken {
                Some(Ok(part)) => {
                    out.extend(part);
                    self.next += 1;
                    return true;
                }
                Some(Err(payload)) => panic::resume_unwind(payload),
                None => {}
            }
            let c = self.shared.claim.fetch_add(1, Ordering::Relaxed);
            if c < self.chunks {
                let part = chunk(self.items, self.per, c).iter().map(self.f);
                if c == self.next {
                    out.extend(part);
                    self.next += 1;
                    return true;
                }
                let part: Vec<U> = part.collect();
                if let Some(slot) = self.shared.ready().get_mut(c) {
                    *slot = Some(Ok(part));
                }
                continue;
            }
            // Every chunk is claimed: the one due is on a worker.
            let mut ready = self.shared.ready();
            while ready.get(self.next).is_some_and(Option::is_none) {
                ready = self
                    .shared
                    .done
                    .wait(ready)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
        false
    }
}

/// The CPU this thread is on, where the system says.
fn this_cpu() -> Option<usize> {
    #[cfg(target_os = "linux")]
    return nix::sched::sched_getcpu().ok();
    #[cfg(not(target_os = "linux"))]
    return None;
}

/// Run first by a worker: moves it off `parent`'s CPU, then lets it run on every CPU the process
/// may use again. Linux places a new thread on the CPU of the thread that started it, which goes
/// on working, and the two shared that CPU for up to 7 ms before the scheduler moved one (measured
/// on these 2-CPU machines): most of a parallel phase of a short run. An affinity change moves a
/// thread at once. Nothing else changes: the CPUs it may use are the process's, as before.
fn leave_cpu(parent: Option<usize>) {
    #[cfg(target_os = "linux")]
    {
        use nix::sched::{sched_getaffinity, sched_setaffinity};
        use nix::unistd::Pid;
        let this = Pid::from_raw(0);
        let (Some(parent), Ok(all)) = (parent, sched_getaffinity(this)) else {
            return;
        };
        let mut others = all;
        let others_left = others.unset(parent).is_ok()
            && (0..nix::sched::CpuSet::count()).any(|c| others.is_set(c).unwrap_or(false));
        if others_left && sched_setaffinity(this, &others).is_ok() {
            let _ = sched_setaffinity(this, &all);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = parent;
}

/// A worker thread of `scope` running `f`, with a main thread's stack, moved off `parent`'s CPU
/// first ([`leave_cpu`]).
fn worker<'scope, R: Send + 'scope>(
    scope: &'scope thread::Scope<'scope, '_>,
    parent: Option<usize>,
    f: impl FnOnce() -> R + Send + 'scope,
) -> std::io::Result<thread::ScopedJoinHandle<'scope, R>> {
    thread::Builder::new()
        .stack_size(STACK)
        .spawn_scoped(scope, move || {
            leave_cpu(parent);
            f()
        })
}

fn chunk<T>(items: &[T], per: usize, c: usize) -> &[T] {
    let start = (c * per).min(items.len());
    &items[start..(start + per).min(items.len())]
}

/// Maps `items` with `f` on every core and hands the results to `consume` in order, through a
/// [`Pull`], as they are ready: `consume` runs on this thread while workers map the items after
/// the ones it is at. Chunks of `per` items are claimed in order, by the workers and, when it
/// would otherwise wait, by the consumer. One thread (small inputs, one core, no thread from the
/// system) maps as the consumer pulls.
pub(crate) fn stream<T: Sync, U: Send, R>(
    items: &[T],
    per: usize,
    f: impl Fn(&T) -> U + Sync,
    consume: impl FnOnce(&mut Pull<'_, T, U>) -> R,
) -> R {
    let per = per.max(1);
    let chunks = items.len().div_ceil(per);
    let shared = Shared {
        claim: AtomicUsize::new(0),
        ready: Mutex::new((0..chunks).map(|_| None).collect()),
        done: Condvar::new(),
    };
    let workers = cores().min(items.len() / MIN_PER_THREAD).saturating_sub(1);
    let f = &f;
    let mut pull = Pull {
        items,
        f,
        per,
        chunks,
        shared: &shared,
        next: 0,
    };
    if workers == 0 {
        return consume(&mut pull);
    }
    let parent = this_cpu();
    thread::scope(|scope| {
        for _ in 0..workers {
            let shared = &shared;
            // No thread: the consumer maps every chunk itself.
            let _ = worker(scope, parent, move || {
                loop {
                    let c = shared.claim.fetch_add(1, Ordering::Relaxed);
                    if c >= chunks {
                        break;
                    }
                    let part = panic::catch_unwind(AssertUnwindSafe(|| {
                        chunk(items, per, c).iter().map(f).collect::<Vec<U>>()
                    }));
                    let failed = part.is_err();
                    if let Some(slot) = shared.ready().get_mut(c) {
                        *slot = Some(part);
                    }
                    shared.done.notify_all();
                    if failed {
                        break;
                    }
                }
            });
        }
        consume(&mut pull)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker may use every CPU the process may use once it has moved: the move leaves no
    /// affinity behind.
    #[cfg(target_os = "linux")]
    #[test]
    fn leaving_the_parents_cpu_leaves_the_affinity_as_it_was() {
        use nix::sched::sched_getaffinity;
        use nix::unistd::Pid;
        let before = sched_getaffinity(Pid::from_raw(0)).ok();
        let parent = this_cpu();
        assert!(parent.is_some());
        let after = thread::spawn(move || {
            leave_cpu(parent);
            sched_getaffinity(Pid::from_raw(0)).ok()
        })
        .join()
        .ok()
        .flatten();
        assert!(before.is_some());
        assert_eq!(after, before);
    }

    #[test]
    fn stream_hands_over_everything_in_order() {
        for n in [0, 1, 63, 64, 65, 1024, 5000, 10_007] {
            for per in [1, 7, 64, 4096] {
                let items: Vec<usize> = (0..n).collect();
                let out = stream(
                    &items,
                    per,
                    |i| i * 3,
                    |pull| {
                        let mut out = Vec::new();
                        while pull.next_into(&mut out) {}
                        assert!(pull.is_done());
                        out
                    },
                );
                assert_eq!(
                    out,
                    items.iter().map(|i| i * 3).collect::<Vec<_>>(),
                    "n = {n}, per = {per}"
                );
            }
        }
    }

    #[test]
    fn stream_consumer_may_stop_early() {
        let items: Vec<usize> = (0..5000).collect();
        let first = stream(
            &items,
            16,
            |i| i + 1,
            |pull| {
                let mut out = Vec::new();
                pull.next_into(&mut out);
                out
            },
        );
        assert_eq!(first, (1..=16).collect::<Vec<_>>());
    }

    #[test]
    fn stream_raises_a_workers_panic_when_its_chunk_is_due() {
        let items: Vec<usize> = (0..5000).collect();
        let caught = panic::catch_unwind(|| {
            stream(
                &items,
                16,
                |&i| {
                    assert!(i != 4000, "boom");
                    i
                },
                |pull| {
                    let mut out = Vec::new();
                    while pull.next_into(&mut out) {}
                    out.len()
                },
            )
        });
        assert!(caught.is_err());
    }

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
