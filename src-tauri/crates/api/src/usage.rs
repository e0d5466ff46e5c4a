//! Usage recording off the request path. Requests count their [`UseEvent`] in a map under a
//! lock (identical events in a second share one entry, so a busy client costs one entry a
//! second, not memory per request); one task wakes every `FLUSH_EVERY` (200 ms), takes what
//! arrived and writes it with [`Tessera::record_use_counts`] (one row per entry with its
//! count, one transaction per `BATCH` rows, one update per token), so verification never
//! waits on the SQLite writer. The task is not woken per event: that would wake it, on the
//! same cores, for every request. On shutdown it closes the queue and writes what is left,
//! so nothing pending is lost on a clean stop. Another task prunes events older than the
//! policy's retention, at start and then hourly.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use foldhash::{HashMap, HashSet};
use tessera_core::store::usage::UseEvent;
use tessera_core::Tessera;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const FLUSH_EVERY: Duration = Duration::from_millis(200);
/// Most rows written in one transaction.
const BATCH: usize = 5_000;
/// Distinct events held beyond this are dropped with a warning rather than growing memory
/// unbounded (far more than arrive between two flushes at any rate this server reaches).
const QUEUE: usize = 100_000;
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// The sending side, cloned into request handling.
#[derive(Clone)]
pub struct UsageSender(Arc<Queue>);

#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    /// Events refused since the writer last said so (queue full, or closed).
    dropped: AtomicU64,
}

#[derive(Default)]
struct QueueState {
    counts: HashMap<UseEvent, i64>,
    closed: bool,
}

impl UsageSender {
    pub fn send(&self, e: UseEvent) {
        let mut q = self.0.lock();
        if !q.closed {
            if let Some(n) = q.counts.get_mut(&e) {
                *n += 1;
                return;
            }
            if q.counts.len() < QUEUE {
                q.counts.insert(e, 1);
                return;
            }
        }
        drop(q);
        self.0.dropped.fetch_add(1, Ordering::Relaxed);
    }
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Move the counted events into `into`; with `close`, refuse every later event.
    fn take(&self, into: &mut Vec<(UseEvent, i64)>, close: bool) {
        let mut q = self.lock();
        let counts = std::mem::take(&mut q.counts);
        q.closed |= close;
        drop(q);
        into.extend(counts);
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!(
                events = dropped,
                "usage events dropped: the writer is behind or stopping"
            );
        }
    }
}

/// User agents as shared text. A client sends the same one on every request, so each usage
/// event takes a reference to one copy instead of a copy of its own. Bounded: when full it
/// starts afresh, so a client varying its user agent cannot grow it.
#[derive(Default)]
pub struct Agents(Mutex<HashSet<Arc<str>>>);

impl Agents {
    const MAX: usize = 1024;

    pub fn get(&self, ua: &str) -> Arc<str> {
        let mut set = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(a) = set.get(ua) {
            return a.clone();
        }
        if set.len() >= Self::MAX {
            set.clear();
        }
        let a: Arc<str> = ua.into();
        set.insert(a.clone());
        a
    }
}

/// The running writer and pruner.
pub struct UsageWriter {
    stop: oneshot::Sender<()>,
    writer: JoinHandle<()>,
    pruner: JoinHandle<()>,
}

impl UsageWriter {
    pub fn start(tessera: Tessera) -> (UsageSender, Self) {
        let queue = Arc::new(Queue::default());
        let (stop_tx, stop_rx) = oneshot::channel();
        let writer = tokio::spawn(run(tessera.clone(), queue.clone(), stop_rx));
        let pruner = tokio::spawn(async move {
            let mut tick = tokio::time::interval(PRUNE_EVERY);
            loop {
                tick.tick().await;
                match tessera.prune_usage().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(events = n, "pruned old usage events"),
                    Err(e) => tracing::warn!(error = %e, "pruning usage events failed"),
                }
            }
        });
        (
            UsageSender(queue),
            Self {
                stop: stop_tx,
                writer,
                pruner,
            },
        )
    }

    /// Write everything still queued, then stop. Call after the server stopped taking requests.
    pub async fn shutdown(self) {
        self.pruner.abort();
        let _ = self.stop.send(());
        if let Err(e) = self.writer.await {
            tracing::error!(error = %e, "the usage writer stopped abnormally");
        }
    }
}

async fn run(tessera: Tessera, queue: Arc<Queue>, mut stop: oneshot::Receiver<()>) {
    let mut taken: Vec<(UseEvent, i64)> = Vec::new();
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        // A dropped stop sender (the writer dropped without `shutdown`) stops it too.
        let stopping = tokio::select! {
            _ = tick.tick() => false,
            _ = &mut stop => true,
        };
        // Once closed, no request can queue more: what is taken now is the last of it.
        queue.take(&mut taken, stopping);
        for batch in taken.chunks(BATCH) {
            flush(&tessera, batch).await;
        }
        taken.clear();
        // Keep room for a usual tick, not for the largest burst ever seen.
        taken.shrink_to(BATCH);
        if stopping {
            break;
        }
    }
}

async fn flush(tessera: &Tessera, batch: &[(UseEvent, i64)]) {
    // One retry: a busy writer (another Tessera process) is the likely cause.
    for attempt in 0..2 {
        match tessera.record_use_counts(batch).await {
            Ok(()) => return,
            Err(e) if attempt == 0 => {
                tracing::warn!(error = %e, "writing usage failed; retrying");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => tracing::error!(error = %e, events = batch.len(), "usage events lost"),
        }
    }
}
