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
/// The same bound in bytes (events with long paths or user agents weigh more); drops are
/// counted in the database and shown on the dashboard.
const QUEUE_BYTES: usize = 32 << 20;
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// How often rotated tokens whose overlap is over are revoked for good.
const ROTATION_SWEEP_EVERY: Duration = Duration::from_secs(15);

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
    /// What the distinct events held weigh, roughly.
    bytes: usize,
    closed: bool,
}

/// Roughly what one distinct event costs held in the queue.
fn weight(e: &UseEvent) -> usize {
    let owned = |c: &std::borrow::Cow<'static, str>| match c {
        std::borrow::Cow::Owned(s) => s.len(),
        std::borrow::Cow::Borrowed(_) => 0,
    };
    std::mem::size_of::<(UseEvent, i64)>()
        + 16
        + owned(&e.path)
        + owned(&e.method)
        + e.user_agent.as_ref().map_or(0, |a| a.len())
}

impl UsageSender {
    pub fn send(&self, e: UseEvent) {
        let mut q = self.0.lock();
        if !q.closed {
            if let Some(n) = q.counts.get_mut(&e) {
                *n += 1;
                return;
            }
            let w = weight(&e);
            if q.counts.len() < QUEUE && q.bytes + w <= QUEUE_BYTES {
                q.bytes += w;
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

    /// Move the counted events into `into`; with `close`, refuse every later event. Returns
    /// how many events were dropped since the last take.
    fn take(&self, into: &mut Vec<(UseEvent, i64)>, close: bool) -> u64 {
        let mut q = self.lock();
        let counts = std::mem::take(&mut q.counts);
        q.bytes = 0;
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
        dropped
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
            let mut prune = tokio::time::interval(PRUNE_EVERY);
            let mut sweep = tokio::time::interval(ROTATION_SWEEP_EVERY);
            loop {
                tokio::select! {
                    _ = prune.tick() => match tessera.prune_usage().await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(events = n, "pruned old usage events"),
                        Err(e) => tracing::warn!(error = %e, "pruning usage events failed"),
                    },
                    // Verification refuses a rotated token once its overlap is over; this
                    // makes the revocation final and audited without waiting for a reader.
                    _ = sweep.tick() => match tessera.finish_due_rotations().await {
                        Ok(ids) if ids.is_empty() => {}
                        Ok(ids) => tracing::info!(tokens = ids.len(), "finished token rotations"),
                        Err(e) => tracing::warn!(error = %e, "finishing token rotations failed"),
                    },
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
        let dropped = queue.take(&mut taken, stopping);
        for batch in taken.chunks(BATCH) {
            flush(&tessera, batch).await;
        }
        if dropped > 0 {
            if let Err(e) = tessera.record_dropped_uses(dropped).await {
                tracing::warn!(error = %e, "cannot count dropped usage events");
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;
    use tessera_core::model::TokenId;

    fn event(i: usize, agent_len: usize) -> UseEvent {
        UseEvent {
            token_id: TokenId(1),
            at: time::OffsetDateTime::UNIX_EPOCH,
            ip: None,
            user_agent: Some(format!("{i}-{}", "x".repeat(agent_len)).into()),
            method: Cow::Borrowed("GET"),
            path: Cow::Borrowed("/v1/me"),
            status: 401,
            outcome: "revoked",
            via: "bearer",
        }
    }

    #[test]
    fn the_queue_is_bounded_in_bytes_and_counts_what_it_drops() {
        let q = Arc::new(Queue::default());
        let s = UsageSender(q.clone());
        // 8 KiB user agents: the byte bound is reached long before the count bound.
        let n = QUEUE_BYTES / 8192 + 100;
        for i in 0..n {
            s.send(event(i, 8192));
        }
        let held = q.lock().counts.len();
        assert!(held < n && held > 0, "{held} of {n}");
        assert!(q.lock().bytes <= QUEUE_BYTES);
        let mut taken = Vec::new();
        let dropped = q.take(&mut taken, false);
        assert_eq!(taken.len(), held);
        assert_eq!(dropped as usize, n - held);
        // Identical events still fold into the entry already held.
        s.send(event(0, 8));
        s.send(event(0, 8));
        let mut again = Vec::new();
        assert_eq!(q.take(&mut again, false), 0);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].1, 2);
    }
}
