//! Desktop notifications: a token the signed-in person owns or manages expires within 7
//! days, and again within 1 day, once each (the core remembers what was announced).

use std::time::Duration;

use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

use crate::state::AppState;

/// Check now and then every ten minutes while someone is signed in.
pub fn start<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        loop {
            check(&app).await;
            tokio::time::sleep(Duration::from_secs(600)).await;
        }
    });
}

async fn check<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    let Some(actor) = state.signed_in_actor().await else {
        return;
    };
    let due = match state.core.take_expiry_notices(&actor).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "cannot check token expiry");
            return;
        }
    };
    for (token, days) in due {
        let when = if days <= 1 {
            "within a day"
        } else {
            "within 7 days"
        };
        let body = format!(
            "Token \"{}\" ({}) expires {when}. Create a replacement before it stops working.",
            token.name, token.hint
        );
        if let Err(e) = app
            .notification()
            .builder()
            .title("Tessera: a token expires soon")
            .body(body)
            .show()
        {
            tracing::warn!(error = %e, "cannot show a notification");
        }
    }
}
