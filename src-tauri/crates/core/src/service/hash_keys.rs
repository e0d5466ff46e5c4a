//! The token-hashing keys: which ones this instance holds, rotating to a new one, retiring an
//! old one. The newest key not retired hashes new tokens; every key not retired verifies the
//! tokens it hashed (each token row records its key). The database lists the keys by number
//! and check value; the keys themselves stay where the first one is (the key file or the OS
//! keyring, [`crate::keys::KeyPlace`]). Several servers on one database each hold a copy of
//! the key file: a server that meets a key the database lists and its copy lacks reports
//! itself unhealthy and refuses to create tokens until the file is copied to it, re-reading
//! the file every second.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;
use serde_json::json;

use super::StatusAction;
use super::{now_ts, Actor, Tessera};
use crate::error::{Error, Result};
use crate::keys::{KeyPlace, KeySet, TokenHasher};
use crate::model::TokenId;
use crate::store::{self, token_keys::KeyRow};

/// The keys this instance holds, and where to find more.
#[derive(Debug)]
pub(crate) struct KeyRing {
    set: RwLock<Arc<KeySet>>,
    place: KeyPlace,
    /// When the database's key list was last compared with ours (Unix seconds).
    checked_at: AtomicI64,
    /// Why this instance cannot hash or verify as the database says (a key it lacks).
    missing: Mutex<Option<String>>,
}

impl KeyRing {
    pub(crate) fn new(set: KeySet, place: KeyPlace) -> Self {
        Self {
            set: RwLock::new(Arc::new(set)),
            place,
            checked_at: AtomicI64::new(now_ts()),
            missing: Mutex::new(None),
        }
    }

    pub(crate) fn current(&self) -> Arc<KeySet> {
        match self.set.read() {
            Ok(s) => Arc::clone(&s),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    pub(crate) fn place(&self) -> &KeyPlace {
        &self.place
    }

    pub(crate) fn missing(&self) -> Option<String> {
        self.missing.lock().ok().and_then(|m| m.clone())
    }

    fn set_missing(&self, why: Option<String>) {
        if let Ok(mut m) = self.missing.lock() {
            if *m != why {
                match &why {
                    Some(w) => tracing::error!(problem = %w, "token-hashing keys"),
                    None => tracing::info!("this instance holds every token-hashing key in use"),
                }
                *m = why;
            }
        }
    }
}

/// Load every key `rows` lists from `place`, checking each against its recorded check value.
/// Returns the keys found and what is wrong with the others.
pub(crate) fn load_listed(
    place: &KeyPlace,
    rows: &[KeyRow],
    have: &KeySet,
) -> (Vec<TokenHasher>, Vec<String>) {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for row in rows {
        let Ok(id) = u32::try_from(row.id) else {
            problems.push(format!("key number {} is out of range", row.id));
            continue;
        };
        if let Some(h) = have.all().iter().find(|h| h.id() == id) {
            found.push(h.clone());
            continue;
        }
        match place.load(id) {
            Ok(Some(h)) if h.matches(&row.check_value) => found.push(h),
            Ok(Some(_)) => problems.push(format!(
                "key {id} in {} is not the key {id} this database lists",
                place.describe()
            )),
            Ok(None) => problems.push(format!(
                "key {id}, which this database uses, is not in {}; copy the key file from the machine that ran \
                 `tessera key rotate` (every instance needs the same file)",
                place.describe()
            )),
            Err(e) => problems.push(e.to_string()),
        }
    }
    (found, problems)
}

/// A token-hashing key as `tessera key list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub id: u32,
    pub created_at: i64,
    pub retired_at: Option<i64>,
    /// The key new tokens are hashed with.
    pub newest: bool,
    /// Tokens hashed with it that still verify (not revoked, not expired).
    pub live_tokens: i64,
    /// Whether this instance holds it (every instance should hold every key not retired).
    pub held: bool,
}

/// What retiring a key did.
#[derive(Debug, Clone, Serialize)]
pub struct KeyRetired {
    pub id: u32,
    /// The tokens revoked with it (`--revoke-them`).
    pub revoked: Vec<TokenId>,
}

/// What rotating did.
#[derive(Debug, Clone, Serialize)]
pub struct KeyRotated {
    pub id: u32,
    /// Only written where the keys are kept, not yet in use (`--prepare`).
    pub prepared: bool,
    /// Where the key is kept ("the key file PATH" or "the OS keyring (...)").
    pub kept_in: String,
}

impl Tessera {
    /// Compare the database's key list with the keys held, and load what is new (a rotation
    /// by another instance or the CLI). Returns whether the keys changed.
    pub(crate) async fn refresh_keys(&self) -> Result<bool> {
        let now = now_ts();
        let before = self.keys.checked_at.load(Ordering::Relaxed);
        if now - before < 1 && self.keys.missing().is_some() {
            // Still lacking a key: its file is read again at most once a second.
            return Ok(false);
        }
        self.keys.checked_at.store(now, Ordering::Relaxed);
        let rows = store::token_keys::active(&mut self.reader().await?).await?;
        let have = self.keys.current();
        let want: Vec<u32> = rows
            .iter()
            .rev()
            .filter_map(|r| u32::try_from(r.id).ok())
            .collect();
        if want == have.ids() {
            self.keys.set_missing(None);
            return Ok(false);
        }
        let place = self.keys.place.clone();
        let (found, problems) =
            tokio::task::spawn_blocking(move || load_listed(&place, &rows, &have))
                .await
                .map_err(|e| Error::internal("loading the keys stopped", e))?;
        self.keys
            .set_missing((!problems.is_empty()).then(|| problems.join("; ")));
        let Some(set) = KeySet::new(found) else {
            return Ok(false);
        };
        let changed = set.ids() != self.keys.current().ids();
        if changed {
            tracing::info!(keys = ?set.ids(), "token-hashing keys loaded");
            if let Ok(mut s) = self.keys.set.write() {
                *s = Arc::new(set);
            }
            self.cache.bump();
        }
        Ok(changed)
    }

    /// [`Tessera::refresh_keys`] at most once a second (on a verification that found no
    /// token, and each second on a server).
    pub(crate) async fn refresh_keys_soon(&self) -> bool {
        let now = now_ts();
        if now - self.keys.checked_at.load(Ordering::Relaxed) < 1 {
            return false;
        }
        self.refresh_keys().await.unwrap_or(false)
    }

    /// The key to hash a new token with: the newest the database lists, which this instance
    /// must hold.
    pub(crate) async fn key_for_new_tokens(&self) -> Result<TokenHasher> {
        self.refresh_keys().await?;
        if let Some(why) = self.keys.missing() {
            // Another instance may hold it: 503, as for any instance unfit to answer.
            return Err(Error::Unavailable(format!(
                "this instance cannot create tokens until it holds every key in use: {why}"
            )));
        }
        Ok(self.keys.current().newest().clone())
    }

    /// Every token-hashing key this database has had (admin).
    pub async fn list_keys(&self, actor: &Actor) -> Result<Vec<KeyInfo>> {
        actor.require_admin("see the token-hashing keys")?;
        let mut r = self.reader().await?;
        let rows = store::token_keys::list(&mut r).await?;
        let counts = store::token_keys::live_counts(&mut r, now_ts()).await?;
        drop(r);
        let held = self.keys.current().ids();
        let newest = rows
            .iter()
            .filter(|k| k.retired_at.is_none())
            .map(|k| k.id)
            .max();
        Ok(rows
            .into_iter()
            .map(|k| {
                let id = u32::try_from(k.id).unwrap_or(0);
                KeyInfo {
                    id,
                    created_at: k.created_at,
                    retired_at: k.retired_at,
                    newest: Some(k.id) == newest,
                    live_tokens: counts
                        .iter()
                        .find(|(key, _)| *key == k.id)
                        .map_or(0, |c| c.1),
                    held: held.contains(&id),
                }
            })
            .collect())
    }

    fn require_key_admin(actor: &Actor, what: &str) -> Result<()> {
        actor.require_admin(what)?;
        if actor.through().is_some() {
            return Err(Error::forbidden(
                None,
                "the token-hashing keys are managed with the CLI by an admin, not through a token",
            ));
        }
        Ok(())
    }

    /// Make a new key the one that hashes new tokens (admin). Tokens hashed with older keys
    /// keep verifying. With `prepare`, only write the next key where the keys are kept, to be
    /// copied to every instance first; the next rotation without `prepare` then uses it.
    pub async fn rotate_key(&self, actor: &Actor, prepare: bool) -> Result<KeyRotated> {
        Self::require_key_admin(actor, "rotate the token-hashing key")?;
        self.refresh_keys().await?;
        if let Some(why) = self.keys.missing() {
            return Err(Error::state(format!(
                "rotate from an instance that holds every key in use: {why}"
            )));
        }
        let rows = store::token_keys::list(&mut self.reader().await?).await?;
        let next = rows.iter().map(|k| k.id).max().unwrap_or(0) + 1;
        let next = u32::try_from(next)
            .map_err(|_| Error::state("no key number is left; start a new database"))?;
        let place = self.keys.place.clone();
        let kept_in = place.describe();
        let hasher = tokio::task::spawn_blocking(move || match place.load(next)? {
            Some(h) => Ok((h, true)),
            None => place.create(next).map(|h| (h, false)),
        })
        .await
        .map_err(|e| Error::internal("writing the key stopped", e))??;
        let (hasher, was_prepared) = hasher;
        let now = now_ts();
        let mut tx = self.store.begin().await?;
        if prepare {
            store::audit::append(
                &mut tx,
                now,
                &actor.label(),
                "key.prepare",
                &format!("key:{next}"),
                &json!({"kept_in": kept_in}),
            )
            .await?;
            self.commit(tx).await?;
            return Ok(KeyRotated {
                id: next,
                prepared: true,
                kept_in,
            });
        }
        let kept =
            store::token_keys::insert(&mut tx, i64::from(next), &hasher.check_value(), now).await?;
        if !hasher.matches(&kept) {
            return Err(Error::conflict(
                None,
                format!("another instance recorded a different key {next} at the same moment; run `tessera key list`"),
            ));
        }
        store::audit::append(
            &mut tx,
            now,
            &actor.label(),
            "key.rotate",
            &format!("key:{next}"),
            &json!({"kept_in": kept_in, "prepared_before": was_prepared}),
        )
        .await?;
        self.commit(tx).await?;
        self.refresh_keys().await?;
        Ok(KeyRotated {
            id: next,
            prepared: false,
            kept_in,
        })
    }

    /// Stop verifying with key `id` (admin) and forget it here. Refused for the newest key, and
    /// while tokens it hashed still verify, unless `revoke_them`: then those are revoked first
    /// (each audited with the reason).
    pub async fn retire_key(
        &self,
        actor: &Actor,
        id: u32,
        revoke_them: bool,
    ) -> Result<KeyRetired> {
        Self::require_key_admin(actor, "retire a token-hashing key")?;
        self.refresh_keys().await?;
        let rows = store::token_keys::list(&mut self.reader().await?).await?;
        let Some(row) = rows.iter().find(|k| k.id == i64::from(id)) else {
            return Err(Error::not_found(
                None,
                format!("no key {id}; see `tessera key list`"),
            ));
        };
        if row.retired_at.is_some() {
            return Err(Error::invalid(None, format!("key {id} is retired already")));
        }
        let newest = rows
            .iter()
            .filter(|k| k.retired_at.is_none())
            .map(|k| k.id)
            .max();
        if newest == Some(i64::from(id)) {
            return Err(Error::invalid(
                None,
                format!(
                    "key {id} hashes new tokens; rotate to a new key first (`tessera key rotate`)"
                ),
            ));
        }
        let live =
            store::token_keys::live_tokens(&mut self.reader().await?, i64::from(id), now_ts())
                .await?;
        if !live.is_empty() && !revoke_them {
            let shown: Vec<String> = live.iter().take(10).map(|t| t.to_string()).collect();
            return Err(Error::conflict(
                None,
                format!(
                    "key {id} still verifies {} active token{} ({}{}); revoke them first, or retire with --revoke-them",
                    live.len(),
                    if live.len() == 1 { "" } else { "s" },
                    shown.join(", "),
                    if live.len() > shown.len() { ", ..." } else { "" }
                ),
            ));
        }
        // An OAuth client secret hashed with it would stop authenticating without a word.
        let secrets =
            store::clients::secrets_hashed_with(&mut self.reader().await?, i64::from(id)).await?;
        if !secrets.is_empty() && !revoke_them {
            return Err(Error::conflict(
                None,
                format!(
                    "key {id} still checks {} OAuth client secret{}; give those clients new secrets (tessera client rotate-secret) and retire the old ones first, or retire with --revoke-them",
                    secrets.len(),
                    if secrets.len() == 1 { "" } else { "s" },
                ),
            ));
        }
        let reason = format!("key {id} retired");
        for t in &live {
            self.change_status(actor, *t, StatusAction::Revoke, Some(&reason))
                .await?;
        }
        let now = now_ts();
        let mut tx = self.store.begin().await?;
        store::token_keys::retire(&mut tx, i64::from(id), now).await?;
        store::clients::retire_secrets_by_id(&mut tx, &secrets, now).await?;
        store::audit::append(
            &mut tx,
            now,
            &actor.label(),
            "key.retire",
            &format!("key:{id}"),
            &json!({"revoked": live.len(), "client_secrets_retired": secrets.len()}),
        )
        .await?;
        self.commit(tx).await?;
        let place = self.keys.place.clone();
        tokio::task::spawn_blocking(move || place.remove(id))
            .await
            .map_err(|e| Error::internal("removing the key stopped", e))??;
        self.refresh_keys().await?;
        Ok(KeyRetired { id, revoked: live })
    }
}
