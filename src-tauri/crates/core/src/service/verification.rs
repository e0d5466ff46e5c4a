//! Verification of presented tokens (the servers' hot path, with its cache) and the usage
//! it leaves: recording uses and pruning old ones.

use std::net::IpAddr;

use time::OffsetDateTime;

use super::{now_ts, Tessera};
use crate::error::Result;
use crate::keys::{KeySet, TokenHasher};
use crate::model::Scope;
use crate::store::{self, usage::UseEvent};
use crate::verify::{self, Decision, Reason};

impl Tessera {
    /// Decide whether a presented string is an acceptable token. One keyed hash and one
    /// indexed read; no Argon2, no write. Record the use with [`Tessera::record_uses`].
    pub async fn verify(
        &self,
        presented: &str,
        required: &[Scope],
        ip: Option<IpAddr>,
        now: OffsetDateTime,
    ) -> Result<Decision> {
        self.verify_at(presented, required, ip, now.unix_timestamp())
            .await
    }

    /// [`Tessera::verify`] at `now` in Unix seconds ([`verify::unix_now`]), the servers' hot
    /// path: a cached row is decided without a look-up and without waiting on any lock a
    /// writer holds.
    pub async fn verify_at(
        &self,
        presented: &str,
        required: &[Scope],
        ip: Option<IpAddr>,
        now: i64,
    ) -> Result<Decision> {
        let Ok(presented) = crate::token::well_shaped(presented) else {
            return Ok(Decision::refused(Reason::Malformed));
        };
        // Cached by the hash under the newest key, whichever key hashed the stored row.
        let keys = self.keys.current();
        let hash = keys.newest().hash_validated(presented);
        if let Some(p) = self.cache.get(&hash) {
            // Cached rows are stored tokens found by this very token, so the presented
            // string is one of them and its checksum is right.
            let d = p.decide_at(required, ip, now);
            // Idle expiry is the one refusal another instance can undo without a change
            // this one hears of at once (a use there renews it, written with its usage):
            // read the row again before refusing.
            if d.refused != Some(Reason::IdleExpired) {
                return Ok(d);
            }
        }
        // A typo is refused here, before any look-up.
        if !crate::token::checksum_ok(presented) {
            return Ok(Decision::refused(Reason::Malformed));
        }
        // Boxed so the hit path's future stays small.
        Box::pin(self.verify_uncached(presented, keys, hash, required, ip, now)).await
    }

    async fn verify_uncached(
        &self,
        presented: &str,
        keys: std::sync::Arc<KeySet>,
        hash: crate::keys::TokenHash,
        required: &[Scope],
        ip: Option<IpAddr>,
        now: i64,
    ) -> Result<Decision> {
        let ticket = self.cache.ticket();
        let mut row = self.find_presented(presented, &keys, hash).await?;
        if row.is_none() && self.refresh_keys().await? {
            // Hashed with a key another instance or the CLI has just rotated to: one more
            // read of the (tiny) key list for each token not found, so such a token is
            // accepted on its first presentation.
            let keys = self.keys.current();
            row = self
                .find_presented(presented, &keys, keys.newest().hash_validated(presented))
                .await?;
        }
        Ok(match row {
            None => Decision::refused(Reason::Unknown),
            Some(r) => {
                if r.honeytoken {
                    // The same look-ups as an unknown token's (and never cached), so neither
                    // the answer nor its time tells them apart.
                    self.refresh_keys().await?;
                }
                let p = std::sync::Arc::new(verify::Prepared::new(&r));
                if p.cacheable() && keys.newest().id() == self.keys.current().newest().id() {
                    self.cache.put(hash, p.clone(), ticket);
                }
                p.decide_at(required, ip, now)
            }
        })
    }

    /// The stored row of a presented token, whichever key hashed it: one indexed read per key
    /// held, newest first (one, unless keys are being rotated). `newest` is its hash under the
    /// newest key.
    pub(super) async fn find_presented(
        &self,
        presented: &str,
        keys: &KeySet,
        newest: crate::keys::TokenHash,
    ) -> Result<Option<store::tokens::TokenRow>> {
        let mut r = self.reader().await?;
        for (i, h) in keys.all().iter().enumerate() {
            let hash = if i == 0 {
                newest
            } else {
                h.hash_validated(presented)
            };
            if let Some(row) = store::tokens::find_by_hash(&mut r, &hash).await? {
                return Ok(Some(row));
            }
        }
        Ok(None)
    }

    /// The hasher of the newest key, for front ends and benchmarks that hash tokens.
    pub fn hasher(&self) -> TokenHasher {
        self.keys.current().newest().clone()
    }

    /// Record uses: identical ones in the same second become one row with a count
    /// ([`store::usage::fold`]).
    pub async fn record_uses(&self, events: &[UseEvent]) -> Result<()> {
        self.record_rows(&store::usage::fold(events)).await
    }

    /// [`Tessera::record_uses`] for distinct events, each with how many identical
    /// presentations it stands for (the API counts them as they arrive).
    pub async fn record_use_counts(&self, counted: &[(UseEvent, i64)]) -> Result<()> {
        let rows: Vec<(&UseEvent, i64)> = counted.iter().map(|(e, n)| (e, *n)).collect();
        self.record_rows(&rows).await
    }

    /// One transaction, with the new sources the accepted uses bring
    /// ([`super::sources`]). Only uses that move a token's idle-expiry clock invalidate cached
    /// decisions; counters and last-used fields are not part of them.
    async fn record_rows(&self, rows: &[(&UseEvent, i64)]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.store.begin().await?;
        let idle_moved = store::usage::record(&mut tx, rows).await?;
        let sources = self.note_sources(&mut tx, rows).await?;
        tx.commit().await?;
        self.remember_sources(sources);
        if idle_moved {
            self.cache.bump();
        }
        Ok(())
    }

    /// Delete usage events older than the policy's retention.
    pub async fn prune_usage(&self) -> Result<u64> {
        let days = self.policy().await?.usage_retention_days;
        let cut = now_ts() - i64::from(days) * 86_400;
        let mut tx = self.store.begin().await?;
        let n = store::usage::prune(&mut tx, cut).await?;
        // OAuth access tokens that expired before the cut: their uses are gone with it, and
        // a client gets a new token every hour or so, so they would pile up for ever.
        store::clients::prune_expired_tokens(&mut tx, cut).await?;
        self.commit(tx).await?;
        Ok(n)
    }
}
