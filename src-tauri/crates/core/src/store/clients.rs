//! The `oauth_clients` and `oauth_client_secrets` tables ([`crate::service::clients`]), and
//! the access tokens (`tokens` rows of kind `access`) each client was issued.

use crate::error::Result;
use crate::keys::TokenHash;
use crate::model::{TokenId, UserId};
use crate::store::{on, Db};

/// A client as stored, with figures about its tokens.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClientRow {
    pub id: i64,
    pub client_id: String,
    pub name: String,
    pub description: String,
    pub scopes: String,
    pub allowed_networks: String,
    pub rate_limit: i64,
    pub token_ttl: i64,
    pub expires_at: Option<i64>,
    pub status: String,
    pub created_by_label: String,
    pub created_at: i64,
    pub status_changed_at: Option<i64>,
    /// Access tokens issued since the `since` given to the query.
    pub issued_recently: i64,
    /// The last accepted use of any of its access tokens.
    pub last_used_at: Option<i64>,
    /// Accepted uses of all its access tokens.
    pub uses: i64,
}

/// A secret as stored (its hash stays in the table).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SecretRow {
    pub id: i64,
    pub client: i64,
    pub hint: String,
    pub key_id: i64,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub retired_at: Option<i64>,
}

const SELECT: &str = "SELECT c.id, c.client_id, c.name, c.description, c.scopes, c.allowed_networks, \
    c.rate_limit, c.token_ttl, c.expires_at, c.status, c.created_by_label, c.created_at, c.status_changed_at, \
    (SELECT COUNT(*) FROM tokens t WHERE t.oauth_client = c.id AND t.created_at > $1) AS issued_recently, \
    (SELECT MAX(t.last_used_at) FROM tokens t WHERE t.oauth_client = c.id) AS last_used_at, \
    (SELECT CAST(COALESCE(SUM(t.use_count), 0) AS BIGINT) FROM tokens t WHERE t.oauth_client = c.id) AS uses \
    FROM oauth_clients c";

/// Clients not deleted, by name.
pub async fn list(db: &mut impl Db, since: i64) -> Result<Vec<ClientRow>> {
    let sql = format!("{SELECT} WHERE c.status <> 'deleted' ORDER BY c.name, c.id");
    Ok(on!(db, c => sqlx::query_as(&sql).bind(since).fetch_all(c).await?))
}

/// One client by number, unless deleted.
pub async fn find(db: &mut impl Db, id: i64, since: i64) -> Result<Option<ClientRow>> {
    let sql = format!("{SELECT} WHERE c.id = $2 AND c.status <> 'deleted'");
    Ok(on!(db, c => sqlx::query_as(&sql).bind(since).bind(id).fetch_optional(c).await?))
}

/// One client by its public `client_id`, unless deleted, without the figures about its
/// tokens (the token endpoint's look-up: one indexed read however many tokens it has).
pub async fn find_by_client_id(db: &mut impl Db, client_id: &str) -> Result<Option<ClientRow>> {
    Ok(on!(db, c => sqlx::query_as(
        "SELECT c.id, c.client_id, c.name, c.description, c.scopes, c.allowed_networks, \
         c.rate_limit, c.token_ttl, c.expires_at, c.status, c.created_by_label, c.created_at, \
         c.status_changed_at, CAST(0 AS BIGINT) AS issued_recently, \
         CAST(NULL AS BIGINT) AS last_used_at, CAST(0 AS BIGINT) AS uses \
         FROM oauth_clients c WHERE c.client_id = $1 AND c.status <> 'deleted'",
    )
    .bind(client_id)
    .fetch_optional(c)
    .await?))
}

/// Whether a client not deleted has this name.
pub async fn name_taken(db: &mut impl Db, name: &str) -> Result<bool> {
    let row: Option<(i64,)> = on!(db, c => sqlx::query_as(
        "SELECT id FROM oauth_clients WHERE name = $1 AND status <> 'deleted'",
    )
    .bind(name)
    .fetch_optional(c)
    .await?);
    Ok(row.is_some())
}

pub struct NewClientRow<'a> {
    pub client_id: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub scopes: &'a str,
    pub allowed_networks: &'a str,
    pub rate_limit: i64,
    pub token_ttl: i64,
    pub expires_at: Option<i64>,
    pub created_by: Option<UserId>,
    pub created_by_label: &'a str,
    pub now: i64,
}

pub async fn insert(db: &mut impl Db, r: NewClientRow<'_>) -> Result<i64> {
    let (id,): (i64,) = on!(db, c => sqlx::query_as(
        "INSERT INTO oauth_clients (client_id, name, description, scopes, allowed_networks, \
         rate_limit, token_ttl, expires_at, status, created_by, created_by_label, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $10, $11) RETURNING id",
    )
    .bind(r.client_id)
    .bind(r.name)
    .bind(r.description)
    .bind(r.scopes)
    .bind(r.allowed_networks)
    .bind(r.rate_limit)
    .bind(r.token_ttl)
    .bind(r.expires_at)
    .bind(r.created_by.map(|u| u.0))
    .bind(r.created_by_label)
    .bind(r.now)
    .fetch_one(c)
    .await?);
    Ok(id)
}

/// Set the status (`active`, `disabled`, `deleted`); false when it was that already or the
/// client is deleted.
pub async fn set_status(db: &mut impl Db, id: i64, status: &str, now: i64) -> Result<bool> {
    let n = on!(db, c => sqlx::query(
        "UPDATE oauth_clients SET status = $1, status_changed_at = $2 \
         WHERE id = $3 AND status <> $1 AND status <> 'deleted'",
    )
    .bind(status)
    .bind(now)
    .bind(id)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n == 1)
}

pub async fn insert_secret(
    db: &mut impl Db,
    client: i64,
    hash: &TokenHash,
    hint: &str,
    key_id: i64,
    now: i64,
) -> Result<i64> {
    let (id,): (i64,) = on!(db, c => sqlx::query_as(
        "INSERT INTO oauth_client_secrets (client, hash, hint, key_id, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(client)
    .bind(&hash.0[..])
    .bind(hint)
    .bind(key_id)
    .bind(now)
    .fetch_one(c)
    .await?);
    Ok(id)
}

/// A client's valid (not retired) secrets, newest first.
pub async fn secrets(db: &mut impl Db, client: i64) -> Result<Vec<SecretRow>> {
    Ok(on!(db, c => sqlx::query_as(
        "SELECT id, client, hint, key_id, created_at, last_used_at, retired_at \
         FROM oauth_client_secrets WHERE client = $1 AND retired_at IS NULL ORDER BY id DESC",
    )
    .bind(client)
    .fetch_all(c)
    .await?))
}

/// The valid secrets of every client not deleted, newest first (one read for a listing).
pub async fn all_valid_secrets(db: &mut impl Db) -> Result<Vec<SecretRow>> {
    Ok(on!(db, c => sqlx::query_as(
        "SELECT s.id, s.client, s.hint, s.key_id, s.created_at, s.last_used_at, s.retired_at \
         FROM oauth_client_secrets s JOIN oauth_clients c ON c.id = s.client \
         WHERE s.retired_at IS NULL AND c.status <> 'deleted' ORDER BY s.id DESC",
    )
    .fetch_all(c)
    .await?))
}

/// Retire a secret of `client`; false when it is not one of its valid secrets.
pub async fn retire_secret(db: &mut impl Db, client: i64, secret: i64, now: i64) -> Result<bool> {
    let n = on!(db, c => sqlx::query(
        "UPDATE oauth_client_secrets SET retired_at = $1 \
         WHERE id = $2 AND client = $3 AND retired_at IS NULL",
    )
    .bind(now)
    .bind(secret)
    .bind(client)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n == 1)
}

/// Retire every valid secret of a client (on delete).
pub async fn retire_all_secrets(db: &mut impl Db, client: i64, now: i64) -> Result<()> {
    on!(db, c => sqlx::query(
        "UPDATE oauth_client_secrets SET retired_at = $1 WHERE client = $2 AND retired_at IS NULL",
    )
    .bind(now)
    .bind(client)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

pub async fn touch_secret(db: &mut impl Db, secret: i64, now: i64) -> Result<()> {
    on!(db, c => sqlx::query("UPDATE oauth_client_secrets SET last_used_at = $1 WHERE id = $2")
        .bind(now)
        .bind(secret)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

/// Valid secrets hashed with key `key_id` (a key is not retired while they need it).
pub async fn secrets_hashed_with(db: &mut impl Db, key_id: i64) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> = on!(db, c => sqlx::query_as(
        "SELECT s.id FROM oauth_client_secrets s JOIN oauth_clients c ON c.id = s.client \
         WHERE s.key_id = $1 AND s.retired_at IS NULL AND c.status <> 'deleted' ORDER BY s.id",
    )
    .bind(key_id)
    .fetch_all(c)
    .await?);
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub async fn retire_secrets_by_id(db: &mut impl Db, ids: &[i64], now: i64) -> Result<()> {
    for id in ids {
        on!(db, c => sqlx::query(
            "UPDATE oauth_client_secrets SET retired_at = $1 WHERE id = $2 AND retired_at IS NULL",
        )
        .bind(now)
        .bind(*id)
        .execute(c)
        .await?
        .rows_affected());
    }
    Ok(())
}

/// Mark a token row as issued to `client`.
pub async fn set_token_client(db: &mut impl Db, token: TokenId, client: i64) -> Result<()> {
    on!(db, c => sqlx::query("UPDATE tokens SET oauth_client = $1 WHERE id = $2")
        .bind(client)
        .bind(token.0)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

/// Delete access tokens that expired before `before` (their uses went with the usage
/// retention); how many. Their audit entries stay.
pub async fn prune_expired_tokens(db: &mut impl Db, before: i64) -> Result<u64> {
    Ok(on!(db, c => sqlx::query(
        "DELETE FROM tokens WHERE kind = 'access' AND expires_at < $1",
    )
    .bind(before)
    .execute(c)
    .await?
    .rows_affected()))
}

/// Revoke every live access token of a client; their ids.
pub async fn revoke_tokens(db: &mut impl Db, client: i64, now: i64) -> Result<Vec<TokenId>> {
    let rows: Vec<(i64,)> = on!(db, c => sqlx::query_as(
        "UPDATE tokens SET status = 'revoked', status_changed_at = $1 \
         WHERE oauth_client = $2 AND status <> 'revoked' RETURNING id",
    )
    .bind(now)
    .bind(client)
    .fetch_all(c)
    .await?);
    Ok(rows.into_iter().map(|r| TokenId(r.0)).collect())
}

/// The valid secrets of a client as `(id, key_id, hash, last_used_at)`, to compare a
/// presented one with.
pub async fn secret_hashes(
    db: &mut impl Db,
    client: i64,
) -> Result<Vec<(i64, i64, Vec<u8>, Option<i64>)>> {
    Ok(on!(db, c => sqlx::query_as(
        "SELECT id, key_id, hash, last_used_at FROM oauth_client_secrets WHERE client = $1 AND retired_at IS NULL",
    )
    .bind(client)
    .fetch_all(c)
    .await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tokens::{self, NewTokenRow};

    fn access<'a>(hash: &'a TokenHash, expires_at: i64) -> NewTokenRow<'a> {
        NewTokenRow {
            kind: "access",
            owner_id: None,
            created_by: None,
            created_by_label: Some("OAuth client svc".into()),
            name: "svc",
            description: "",
            hash,
            hint: "tsr_a_…0000",
            scopes: "me:read",
            now: expires_at - 3_600,
            expires_at: Some(expires_at),
            idle_days: None,
            allowed_networks: "",
            rate_limit: 60,
            key_id: 1,
            history: None,
        }
    }

    #[tokio::test]
    async fn expired_access_tokens_are_pruned_with_their_uses_and_nothing_else() {
        let dir = tempfile::tempdir().expect("dir");
        let store = crate::store::test_store(dir.path()).await;
        let mut tx = store.begin().await.expect("tx");
        let client = insert(
            &mut tx,
            NewClientRow {
                client_id: "tsc_test",
                name: "svc",
                description: "",
                scopes: "me:read",
                allowed_networks: "",
                rate_limit: 60,
                token_ttl: 3_600,
                expires_at: None,
                created_by: None,
                created_by_label: "operator",
                now: 1_000,
            },
        )
        .await
        .expect("client");
        let (old, recent, company) = (TokenHash([1; 32]), TokenHash([2; 32]), TokenHash([3; 32]));
        // Times around now: PostgreSQL keeps usage in day partitions made around today.
        let now = crate::service::now_ts();
        let old_id = tokens::insert(&mut tx, access(&old, now - 2 * 86_400))
            .await
            .expect("old");
        let recent_id = tokens::insert(&mut tx, access(&recent, now - 3_600))
            .await
            .expect("recent");
        let mut c = access(&company, now - 2 * 86_400);
        c.kind = "company";
        let company_id = tokens::insert(&mut tx, c).await.expect("company");
        for id in [old_id, recent_id] {
            set_token_client(&mut tx, id, client).await.expect("client");
        }
        let used = crate::store::usage::UseEvent {
            token_id: old_id,
            at: crate::store::from_ts(now),
            ip: None,
            user_agent: None,
            method: "GET".into(),
            path: "/v1/me".into(),
            status: 200,
            outcome: "accepted",
            via: "bearer",
        };
        crate::store::usage::record(&mut tx, &[(&used, 1)])
            .await
            .expect("use");
        assert_eq!(
            prune_expired_tokens(&mut tx, now - 86_400)
                .await
                .expect("prune"),
            1
        );
        assert!(tokens::find(&mut tx, old_id).await.expect("find").is_none());
        assert!(tokens::find(&mut tx, recent_id)
            .await
            .expect("find")
            .is_some());
        // A company token that expired stays (it is listed and can be looked at).
        assert!(tokens::find(&mut tx, company_id)
            .await
            .expect("find")
            .is_some());
        let (uses,): (i64,) = on!(&mut tx, c => sqlx::query_as("SELECT COUNT(*) FROM usage_events WHERE token_id = $1")
            .bind(old_id.0)
            .fetch_one(c)
            .await
            .expect("count"));
        assert_eq!(uses, 0);
    }
}
