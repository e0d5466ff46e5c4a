//! The verification cache: token hash → prepared row, valid for one generation. Every
//! committed write through this process bumps the generation (so a revoke, deactivation or
//! role change applies to the very next request), and a watcher bumps it when another
//! process (the CLI, a second server) commits to the same database. Off unless a server
//! turns it on; the CLI always reads the database.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::keys::TokenHash;
use crate::verify::Prepared;

const MAX_ENTRIES: usize = 200_000;

/// Keys are HMAC outputs, uniformly random to anyone without the key, so their first eight
/// bytes are already a good hash; SipHash would only add time to the hot path.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DigestHasher(u64);

impl std::hash::Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8).take(1) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(b);
        }
    }
}

type Map = HashMap<TokenHash, (Arc<Prepared>, u64), std::hash::BuildHasherDefault<DigestHasher>>;

#[derive(Debug, Default)]
pub(crate) struct VerifyCache {
    enabled: AtomicBool,
    generation: AtomicU64,
    rows: Mutex<Map>,
    /// Decisions answered from the cache (a metric, and what tests check).
    hits: AtomicU64,
}

impl VerifyCache {
    pub(crate) fn enable(&self) -> bool {
        !self.enabled.swap(true, Ordering::SeqCst)
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A prepared row, if cached in the current generation.
    pub(crate) fn get(&self, hash: &TokenHash) -> Option<Arc<Prepared>> {
        if !self.enabled.load(Ordering::Relaxed) {
            return None;
        }
        let current = self.generation();
        let rows = self.rows.lock().ok()?;
        match rows.get(hash) {
            Some((p, g)) if *g == current => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(Arc::clone(p))
            }
            _ => None,
        }
    }

    pub(crate) fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Remember a row read in generation `read_in` (taken before the read, so a write that
    /// commits during the read leaves this entry already stale).
    pub(crate) fn put(&self, hash: TokenHash, p: Arc<Prepared>, read_in: u64) {
        if !self.enabled.load(Ordering::Relaxed) {
            return;
        }
        if let Ok(mut rows) = self.rows.lock() {
            if rows.len() >= MAX_ENTRIES {
                rows.clear();
            }
            rows.insert(hash, (p, read_in));
        }
    }

    /// Something committed: every cached row may be stale.
    pub(crate) fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut rows) = self.rows.lock() {
            if rows.len() >= MAX_ENTRIES / 2 {
                rows.clear();
            }
        }
    }
}

/// Bump the cache whenever another connection commits to the database, by polling SQLite's
/// `PRAGMA data_version` on a connection of its own.
pub(crate) fn watch(cache: Arc<VerifyCache>, db: std::path::PathBuf, every: Duration) {
    tokio::spawn(async move {
        use sqlx::{ConnectOptions, Connection};
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&db)
            .read_only(true)
            .busy_timeout(Duration::from_secs(5));
        let mut conn = match opts.connect().await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "cannot watch the database; disabling the verify cache");
                cache.enabled.store(false, Ordering::SeqCst);
                return;
            }
        };
        let mut last: Option<i64> = None;
        loop {
            match crate::store::data_version(&mut conn).await {
                Ok(v) => {
                    if last.is_some_and(|l| l != v) {
                        cache.bump();
                    }
                    last = Some(v);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "data_version check failed");
                    cache.bump();
                }
            }
            if std::sync::Arc::strong_count(&cache) == 1 {
                // Nobody else holds the cache any more: the server is gone.
                let _ = conn.close().await;
                return;
            }
            tokio::time::sleep(every).await;
        }
    });
}
