//! Checking the audit log's hash chain (the walk itself is [`crate::store::audit::check`]).

use crate::error::Result;
use crate::service::{Actor, Tessera};
use crate::store::audit::{self, AuditCheck};

impl Tessera {
    /// Check that the audit log is as Tessera wrote it: every entry's hash matches its content
    /// and follows the entry before it, the newest entry is the one recorded on the last
    /// append, and the triggers refusing updates and deletes exist. A broken log is an
    /// `Ok` answer with [`AuditCheck::problem`] set; `Err` means the check could not run.
    pub async fn verify_audit(&self) -> Result<AuditCheck> {
        // One read transaction: a consistent snapshot even while others append.
        let mut tx = self.store.reader().begin().await?;
        let check = audit::check(&mut tx).await?;
        tx.rollback().await?;
        Ok(check)
    }

    /// [`Tessera::verify_audit`] for an actor: the local operator and admins only, like
    /// reading the audit log.
    pub async fn verify_audit_as(&self, actor: &Actor) -> Result<AuditCheck> {
        actor.require_admin("verify the audit log")?;
        self.verify_audit().await
    }
}
