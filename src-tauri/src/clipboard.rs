//! The one long-lived clipboard. On X11 the copied text lives in this process, so the app
//! keeps a single `arboard::Clipboard` for its whole life. Copies are marked as secrets for
//! clipboard managers, and cleared after a countdown only if the clipboard still holds what
//! we put there (compared by hash), and only for the latest copy.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::error::IpcError;

#[derive(Default, Clone)]
pub struct SecretClipboard {
    inner: Arc<Mutex<Option<arboard::Clipboard>>>,
    generation: Arc<AtomicU64>,
    /// The hash of the latest secret copied, until it is cleared.
    latest: Arc<Mutex<Option<[u8; 32]>>>,
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

impl SecretClipboard {
    fn with<T>(
        &self,
        f: impl FnOnce(&mut arboard::Clipboard) -> Result<T, arboard::Error>,
    ) -> Result<T, IpcError> {
        let mut guard = self
            .inner
            .lock()
            .map_err(|_| IpcError::internal("the clipboard is unavailable; restart Tessera"))?;
        if guard.is_none() {
            let cb = arboard::Clipboard::new().map_err(|e| {
                tracing::error!(error = %e, "no clipboard");
                IpcError::internal("no clipboard is available on this desktop; select the token and copy it by hand")
            })?;
            *guard = Some(cb);
        }
        let cb = guard
            .as_mut()
            .ok_or_else(|| IpcError::internal("the clipboard is unavailable"))?;
        f(cb).map_err(|e| {
            tracing::error!(error = %e, "clipboard operation failed");
            IpcError::internal("the clipboard refused the operation; try again")
        })
    }

    /// Put a secret on the clipboard and clear it after `seconds` if it is still there.
    pub fn copy_secret(&self, text: String, seconds: u32) -> Result<(), IpcError> {
        let want = digest(&text);
        self.with(|cb| {
            let set = cb.set();
            #[cfg(target_os = "linux")]
            let set = {
                use arboard::SetExtLinux;
                set.exclude_from_history()
            };
            #[cfg(any(target_os = "windows", target_os = "macos"))]
            let set = {
                #[cfg(target_os = "macos")]
                use arboard::SetExtApple;
                #[cfg(target_os = "windows")]
                use arboard::SetExtWindows;
                set.exclude_from_history()
            };
            set.text(text)
        })?;
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        if let Ok(mut latest) = self.latest.lock() {
            *latest = Some(want);
        }
        let me = self.clone();
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(Duration::from_secs(u64::from(seconds))).await;
            // A newer copy owns the clipboard and its own countdown.
            if me.generation.load(Ordering::SeqCst) == generation {
                let _ = me.clear_if_holding(&want);
            }
        });
        Ok(())
    }

    /// Clear the clipboard if it still holds the text whose hash is `want`.
    fn clear_if_holding(&self, want: &[u8; 32]) -> Result<(), IpcError> {
        self.with(|cb| {
            let still_ours = cb.get_text().map(|t| digest(&t) == *want).unwrap_or(false);
            if still_ours {
                cb.clear()?;
            }
            Ok(())
        })
    }

    /// Clear now (the user asked, or the app is closing) if the latest copy is still there.
    /// Whatever the person copied since (from Tessera or anywhere else) is left alone.
    pub fn clear(&self) -> Result<(), IpcError> {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let latest = self
            .latest
            .lock()
            .map_err(|_| IpcError::internal("the clipboard is unavailable; restart Tessera"))?
            .take();
        match latest {
            // Never copied anything: nothing of ours to clear, and no clipboard to open.
            None => Ok(()),
            Some(want) => self.clear_if_holding(&want),
        }
    }
}
