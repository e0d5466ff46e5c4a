//! Usage recording off the request path. Requests hand [`UseEvent`]s to a channel; one task
//! wakes every [`FLUSH_EVERY`], drains what arrived and writes it with
//! [`Tessera::record_uses`] (one transaction per [`BATCH`] events: multi-row inserts, one
//! update per token), so verification never waits on the SQLite writer. The task does not
//! wait on the channel itself: that would wake it, on the same cores, for every request.
//! On shutdown it drains the channel before it ends, so nothing pending is lost on a clean
//! stop. Another task prunes events older than the policy's retention, at start and then
//! hourly.

use std::time::Duration;

use tessera_core::store::usage::UseEvent;
use tessera_core::Tessera;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

const FLUSH_EVERY: Duration = Duration::from_millis(200);
/// Most events written in one transaction.
const BATCH: usize = 5_000;
/// Events queued beyond this are dropped with a warning rather than growing memory unbounded
/// (far more than arrive between two flushes at any rate this server reaches).
const QUEUE: usize = 100_000;
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// The sending side, cloned into request handling.
#[derive(Clone)]
pub struct UsageSender(mpsc::Sender<UseEvent>);

impl UsageSender {
    pub fn send(&self, e: UseEvent) {
        if let Err(err) = self.0.try_send(e) {
            tracing::warn!(error = %err, "usage event dropped: the writer is behind");
        }
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
        let (tx, rx) = mpsc::channel(QUEUE);
        let (stop_tx, stop_rx) = oneshot::channel();
        let writer = tokio::spawn(run(tessera.clone(), rx, stop_rx));
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
            UsageSender(tx),
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

async fn run(tessera: Tessera, mut rx: mpsc::Receiver<UseEvent>, mut stop: oneshot::Receiver<()>) {
    let mut batch: Vec<UseEvent> = Vec::with_capacity(BATCH);
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        // A dropped stop sender (the writer dropped without `shutdown`) stops it too.
        let stopping = tokio::select! {
            _ = tick.tick() => false,
            _ = &mut stop => true,
        };
        if stopping {
            break;
        }
        drain(&tessera, &mut rx, &mut batch).await;
    }
    // No request can queue more once the channel is closed; write what is left.
    rx.close();
    drain(&tessera, &mut rx, &mut batch).await;
}

/// Write everything queued now, [`BATCH`] events per transaction.
async fn drain(tessera: &Tessera, rx: &mut mpsc::Receiver<UseEvent>, batch: &mut Vec<UseEvent>) {
    loop {
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(e) => batch.push(e),
                Err(_) => break,
            }
        }
        let full = batch.len() >= BATCH;
        flush(tessera, batch).await;
        if !full {
            return;
        }
    }
}

async fn flush(tessera: &Tessera, batch: &mut Vec<UseEvent>) {
    if batch.is_empty() {
        return;
    }
    // One retry: a busy writer (another Tessera process) is the likely cause.
    for attempt in 0..2 {
        match tessera.record_uses(batch).await {
            Ok(()) => {
                batch.clear();
                return;
            }
            Err(e) if attempt == 0 => {
                tracing::warn!(error = %e, "writing usage failed; retrying");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => tracing::error!(error = %e, events = batch.len(), "usage events lost"),
        }
    }
    batch.clear();
}
