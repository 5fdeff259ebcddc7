//! The scheduler: runs tasks on worker threads with per-worker state.
//!
//! Tasks are taken from a shared queue in order (callers order them for locality and put the
//! expensive ones first). The first error latches: no worker starts another task, and it is
//! returned after every worker has joined. The abort check runs before every task, so an abort
//! is noticed within one task (tasks also check it internally at finer boundaries).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use parking_lot::Mutex;

/// Run `work(state, task)` for every task on `threads` workers, each with `init()` state.
/// Returns every worker's final state, or the first error.
pub fn run<T, S, E>(
    tasks: Vec<T>,
    threads: usize,
    should_abort: &(dyn Fn() -> bool + Sync),
    on_abort: impl Fn() -> E + Sync,
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, T) -> Result<(), E> + Sync,
) -> Result<Vec<S>, E>
where
    T: Send,
    S: Send,
    E: Send,
{
    let queue: Vec<Mutex<Option<T>>> = tasks.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let first_error: Mutex<Option<E>> = Mutex::new(None);
    let states: Mutex<Vec<S>> = Mutex::new(Vec::new());
    let workers = threads.max(1).min(queue.len().max(1));
    let fail = |e: E| {
        let mut slot = first_error.lock();
        if slot.is_none() {
            *slot = Some(e);
        }
        failed.store(true, Ordering::Release);
    };
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let mut state = init();
                loop {
                    if failed.load(Ordering::Acquire) {
                        break;
                    }
                    if should_abort() {
                        fail(on_abort());
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(slot) = queue.get(i) else { break };
                    let task = slot.lock().take().expect("each task is taken once");
                    if let Err(e) = work(&mut state, task) {
                        fail(e);
                        break;
                    }
                }
                states.lock().push(state);
            });
        }
    });
    match first_error.into_inner() {
        Some(e) => Err(e),
        None => Ok(states.into_inner()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn every_task_runs_exactly_once() {
        let sum = AtomicU64::new(0);
        let states = run(
            (1..=1000u64).collect(),
            4,
            &|| false,
            || "aborted",
            || 0u64,
            |count, t| {
                *count += 1;
                sum.fetch_add(t, Ordering::Relaxed);
                Ok::<(), &str>(())
            },
        )
        .unwrap();
        assert_eq!(sum.load(Ordering::Relaxed), 500_500);
        assert_eq!(states.iter().sum::<u64>(), 1000);
    }

    #[test]
    fn first_error_stops_new_tasks() {
        let ran = AtomicU64::new(0);
        let r = run(
            (0..10_000u64).collect(),
            2,
            &|| false,
            || 0u64,
            || (),
            |_, t| {
                ran.fetch_add(1, Ordering::Relaxed);
                if t == 10 { Err(t) } else { Ok(()) }
            },
        );
        assert_eq!(r.err(), Some(10));
        assert!(ran.load(Ordering::Relaxed) < 10_000);
    }

    #[test]
    fn abort_is_seen_before_the_next_task() {
        let flag = AtomicBool::new(false);
        let ran = AtomicU64::new(0);
        let r = run(
            (0..10_000u64).collect(),
            2,
            &|| flag.load(Ordering::Relaxed),
            || "aborted",
            || (),
            |_, t| {
                ran.fetch_add(1, Ordering::Relaxed);
                if t == 5 {
                    flag.store(true, Ordering::Relaxed);
                }
                Ok(())
            },
        );
        assert_eq!(r.err(), Some("aborted"));
        assert!(ran.load(Ordering::Relaxed) < 100);
    }
}
