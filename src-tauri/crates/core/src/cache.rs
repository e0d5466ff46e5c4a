//! The verification cache: token hash → prepared row, valid for one generation. Every
//! committed write through this process bumps the generation (so a revoke, deactivation or
//! role change applies to the very next request), and a watcher bumps it when another
//! process (the CLI, a second server) commits to the same database: on SQLite by polling
//! `data_version`, on PostgreSQL by listening for the notification every committing
//! transaction sends, with the change counter polled every second as the backstop. While
//! that listener is disconnected the cache is bypassed: every verification reads the
//! database. Off unless a server turns it on; the CLI always reads the database.

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
    /// Bumped by every invalidation, targeted or whole: a row read before one is not kept.
    invalidations: AtomicU64,
    /// The PostgreSQL change listener is not connected: changes by others may go unheard,
    /// so nothing is answered from (or put in) the cache.
    listener_down: AtomicBool,
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
        if !self.enabled.load(Ordering::Relaxed) || self.listener_down.load(Ordering::Acquire) {
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

    /// A ticket to take before reading a row to [`VerifyCache::put`].
    pub(crate) fn ticket(&self) -> u64 {
        self.invalidations.load(Ordering::Acquire)
    }

    /// Remember a row read after taking `ticket`, unless anything was invalidated since (a
    /// write that committed during the read may have changed it).
    pub(crate) fn put(&self, hash: TokenHash, p: Arc<Prepared>, ticket: u64) {
        if !self.enabled.load(Ordering::Relaxed) || self.listener_down.load(Ordering::Acquire) {
            return;
        }
        if let Ok(mut rows) = self.rows.lock() {
            // Checked under the lock that eviction takes after bumping the counter.
            if self.invalidations.load(Ordering::Acquire) != ticket {
                return;
            }
            if rows.len() >= MAX_ENTRIES {
                rows.clear();
            }
            rows.insert(hash, (p, self.generation()));
        }
    }

    /// Other instances changed these tokens and users: forget the rows that depend on them,
    /// and nothing else, in one pass.
    pub(crate) fn evict(&self, what: &[Changed]) {
        self.invalidations.fetch_add(1, Ordering::AcqRel);
        let (mut tokens, mut users) = (Vec::new(), Vec::new());
        for w in what {
            match *w {
                Changed::Token(id) => tokens.push(id),
                Changed::User(id) => users.push(id),
            }
        }
        tokens.sort_unstable();
        users.sort_unstable();
        if let Ok(mut rows) = self.rows.lock() {
            rows.retain(|_, (p, _)| {
                let t = p.token();
                tokens.binary_search(&t.id.0).is_err()
                    && t.owner
                        .as_ref()
                        .is_none_or(|o| users.binary_search(&o.id.0).is_err())
            });
        }
    }

    /// Is the PostgreSQL change listener disconnected (the cache bypassed)?
    pub(crate) fn listener_down(&self) -> bool {
        self.listener_down.load(Ordering::Acquire)
    }

    fn set_listener_down(&self, down: bool) {
        if down {
            // Stop answering from the cache first, then forget what it holds.
            self.listener_down.store(true, Ordering::Release);
            self.bump();
        } else {
            // Forget what was cached before the gap, then start caching again.
            self.bump();
            self.listener_down.store(false, Ordering::Release);
        }
    }

    /// Something committed: every cached row may be stale.
    pub(crate) fn bump(&self) {
        self.invalidations.fetch_add(1, Ordering::AcqRel);
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut rows) = self.rows.lock() {
            if rows.len() >= MAX_ENTRIES / 2 {
                rows.clear();
            }
        }
    }
}

/// What a change notification names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Changed {
    Token(i64),
    User(i64),
}

/// Read a notification's payload, `VERSION token:ID` or `VERSION user:ID`.
pub(crate) fn parse_change(payload: &str) -> Option<(i64, Changed)> {
    let (version, what) = payload.split_once(' ')?;
    let (kind, id) = what.split_once(':')?;
    let id: i64 = id.parse().ok()?;
    let changed = match kind {
        "token" => Changed::Token(id),
        "user" => Changed::User(id),
        _ => return None,
    };
    Some((version.parse().ok()?, changed))
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

/// Listen for the changes other instances (and the CLI) commit to a PostgreSQL database, and
/// evict the token or user each names. The schema's triggers queue the notification in the
/// changing transaction, so it arrives once the change is visible; the change counter it
/// carries is also polled every second, and a move without a notification empties the cache.
/// While the listening connection is down the cache is bypassed, until it has reconnected
/// and re-read the counter.
pub(crate) fn listen(cache: Arc<VerifyCache>, pool: sqlx::PgPool) {
    use sqlx::postgres::PgListener;
    const POLL: Duration = Duration::from_secs(1);
    cache.set_listener_down(true);
    tokio::spawn(async move {
        loop {
            if Arc::strong_count(&cache) == 1 || pool.is_closed() {
                return;
            }
            let mut listener = match PgListener::connect_with(&pool).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "change listener cannot connect; verifying without the cache");
                    tokio::time::sleep(POLL).await;
                    continue;
                }
            };
            if let Err(e) = listener.listen(crate::store::CHANGES_CHANNEL).await {
                tracing::warn!(error = %e, "change listener cannot subscribe; verifying without the cache");
                tokio::time::sleep(POLL).await;
                continue;
            }
            let mut version = match crate::store::change_version(&pool).await {
                Ok(v) => Some(v),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the change counter; verifying without the cache");
                    tokio::time::sleep(POLL).await;
                    continue;
                }
            };
            cache.set_listener_down(false);
            tracing::info!("change listener connected");
            loop {
                match tokio::time::timeout(POLL, listener.try_recv()).await {
                    Ok(Ok(Some(first))) => {
                        // A burst (a bulk revoke, a deactivated user's tokens) is taken
                        // whole: one pass over the cache for every notification already
                        // received, not one each.
                        let mut burst = vec![first];
                        while let Some(n) = listener.next_buffered() {
                            burst.push(n);
                        }
                        let mut evict = Vec::with_capacity(burst.len());
                        let mut whole = false;
                        for n in &burst {
                            match parse_change(n.payload()) {
                                // Versions are contiguous (one per changed row, in commit
                                // order): a gap means notifications were missed, so
                                // everything goes.
                                Some((v, what)) => {
                                    if version.is_some_and(|known| v > known + 1) {
                                        whole = true;
                                    }
                                    version = version.max(Some(v));
                                    evict.push(what);
                                }
                                None => whole = true,
                            }
                        }
                        if whole {
                            cache.bump();
                        } else {
                            cache.evict(&evict);
                        }
                    }
                    // The connection was lost (None) or failed: changes may go unheard.
                    Ok(Ok(None)) | Ok(Err(_)) => break,
                    Err(_) => {
                        if Arc::strong_count(&cache) == 1 || pool.is_closed() {
                            return;
                        }
                        // Briefly: while this waits, nothing watches the listening connection.
                        match tokio::time::timeout(
                            Duration::from_millis(500),
                            crate::store::change_version(&pool),
                        )
                        .await
                        .unwrap_or(Err(sqlx::Error::PoolTimedOut))
                        {
                            Ok(v) if Some(v) != version => {
                                tracing::debug!(
                                    version = v,
                                    "change counter moved without a notification"
                                );
                                cache.bump();
                                version = Some(v);
                            }
                            Ok(_) => {}
                            Err(_) => break,
                        }
                    }
                }
            }
            tracing::warn!(
                "change listener lost its connection; verifying without the cache until it is back"
            );
            cache.set_listener_down(true);
            drop(listener);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepared(id: i64, owner: Option<i64>) -> Arc<Prepared> {
        Arc::new(Prepared::new(&crate::store::tokens::TokenRow {
            id,
            kind: if owner.is_some() {
                "personal"
            } else {
                "company"
            }
            .into(),
            owner_id: owner,
            owner_email: owner.map(|o| format!("u{o}@acme.test")),
            owner_name: owner.map(|o| format!("U{o}")),
            owner_role: owner.map(|_| "user".into()),
            owner_active: owner.map(|_| true),
            name: format!("t{id}"),
            hint: "tsr_p_…abcd".into(),
            scopes: "me:read".into(),
            status: "active".into(),
            rate_limit: 60,
            ..Default::default()
        }))
    }

    #[test]
    fn a_burst_of_notifications_evicts_exactly_what_it_names() {
        let cache = VerifyCache::default();
        assert!(cache.enable());
        // Tokens 1 and 2 of user 10, token 3 of user 20, company token 4.
        let rows = [(1, Some(10)), (2, Some(10)), (3, Some(20)), (4, None)];
        for (id, owner) in rows {
            let ticket = cache.ticket();
            cache.put(TokenHash([id as u8; 32]), prepared(id, owner), ticket);
        }
        for (id, _) in rows {
            assert!(
                cache.get(&TokenHash([id as u8; 32])).is_some(),
                "{id} cached"
            );
        }
        cache.evict(&[Changed::Token(1), Changed::User(20)]);
        let kept: Vec<i64> = rows
            .iter()
            .map(|r| r.0)
            .filter(|id| cache.get(&TokenHash([*id as u8; 32])).is_some())
            .collect();
        assert_eq!(kept, vec![2, 4]);
    }

    #[test]
    fn notifications_name_a_token_or_a_user() {
        assert_eq!(parse_change("7 token:12"), Some((7, Changed::Token(12))));
        assert_eq!(parse_change("8 user:3"), Some((8, Changed::User(3))));
        for bad in ["", "7", "7 token", "7 token:x", "x token:1", "7 scope:1"] {
            assert_eq!(parse_change(bad), None, "{bad}");
        }
    }
}
