//! Desktop notifications: a token the signed-in person owns or manages expires within 7
//! days, and again within 1 day, once each (the core remembers what was announced). While
//! the session is locked (idle past its limit) no token name or hint is shown: one notice
//! says how many tokens need attention, and the named notices wait until the person signs
//! in again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;
use tessera_core::TokenInfo;

use crate::state::AppState;

/// Check now and then every ten minutes while someone is signed in; honeytoken alerts (admins
/// only) and new-source alerts every 15 seconds.
pub fn start<R: Runtime>(app: AppHandle<R>) {
    let watch = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            check_honeytokens(&watch).await;
            check_new_sources(&watch).await;
            tokio::time::sleep(Duration::from_secs(15)).await;
        }
    });
    tauri::async_runtime::spawn(async move {
        // Whether the count-only notice was already shown for the current lock.
        let told_while_locked = AtomicBool::new(false);
        loop {
            check(&app, &told_while_locked).await;
            tokio::time::sleep(Duration::from_secs(600)).await;
        }
    });
}

/// The text of each notification: named ones when unlocked, one count-only one when locked.
pub fn texts(due: &[(TokenInfo, u32)], pending_while_locked: Option<usize>) -> Vec<String> {
    if let Some(n) = pending_while_locked {
        return match n {
            0 => Vec::new(),
            1 => vec!["A token you manage expires soon. Sign in to Tessera to see which.".into()],
            n => vec![format!(
                "{n} tokens you manage expire soon. Sign in to Tessera to see which."
            )],
        };
    }
    due.iter()
        .map(|(token, days)| {
            let when = if *days <= 1 {
                "within a day"
            } else {
                "within 7 days"
            };
            format!(
                "Token \"{}\" ({}) expires {when}. Create a replacement before it stops working.",
                token.name, token.hint
            )
        })
        .collect()
}

async fn check<R: Runtime>(app: &AppHandle<R>, told_while_locked: &AtomicBool) {
    let state = app.state::<AppState>();
    // A team server's window hears of everything at once ([`check_team`]).
    let Ok(core) = state.core() else {
        return;
    };
    let Some((actor, locked)) = state.signed_in_actor().await else {
        return;
    };
    let bodies = if locked {
        if told_while_locked.swap(true, Ordering::Relaxed) {
            return;
        }
        match core.pending_expiry_notices(&actor).await {
            Ok(n) => texts(&[], Some(n)),
            Err(e) => {
                tracing::warn!(error = %e, "cannot check token expiry");
                return;
            }
        }
    } else {
        told_while_locked.store(false, Ordering::Relaxed);
        match core.take_expiry_notices(&actor).await {
            Ok(due) => texts(&due, None),
            Err(e) => {
                tracing::warn!(error = %e, "cannot check token expiry");
                return;
            }
        }
    };
    for body in bodies {
        show(app, "Tessera: a token expires soon", body);
    }
}

fn show<R: Runtime>(app: &AppHandle<R>, title: &str, body: String) {
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::warn!(error = %e, "cannot show a notification");
    }
}

/// On a team server: every notice due to the signed-in person, in one request that does not
/// keep the session open. While the window is locked nothing is asked (the server's session
/// ends with the same idle time).
async fn check_team<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    let Some((store, locked)) = state.background_store().await else {
        return;
    };
    if locked {
        return;
    }
    let (expiring, honeytokens, new_sources) = match store.take_notices().await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "cannot check notices on the team server");
            return;
        }
    };
    for body in texts(&expiring, None) {
        show(app, "Tessera: a token expires soon", body);
    }
    for a in honeytokens {
        show(app, "Tessera: a honeytoken was used", honeytoken_text(&a));
    }
    for a in new_sources {
        show(
            app,
            "Tessera: a token was used from a new place",
            new_source_text(&a),
        );
    }
}

/// The notification for a honeytoken presentation.
pub fn honeytoken_text(a: &tessera_core::service::HoneytokenAlert) -> String {
    format!(
        "Honeytoken \"{}\" ({}) was presented from {}{}: whoever holds it is not who should. See the Dashboard.",
        a.name,
        a.hint,
        a.ip.as_deref().unwrap_or("an unknown address"),
        a.client
            .as_deref()
            .map(|c| format!(" by {c}"))
            .unwrap_or_default()
    )
}

/// Announce each new honeytoken alert once to the signed-in admin. While the session is
/// locked nothing is shown or marked: the alerts wait (and stay on the Dashboard until
/// acknowledged).
async fn check_honeytokens<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    let Ok(core) = state.core() else {
        return check_team(app).await;
    };
    let Some((actor, locked)) = state.signed_in_actor().await else {
        return;
    };
    if locked {
        return;
    }
    let alerts = match core.take_honeytoken_notices(&actor).await {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "cannot check honeytoken alerts");
            return;
        }
    };
    for a in alerts {
        if let Err(e) = app
            .notification()
            .builder()
            .title("Tessera: a honeytoken was used")
            .body(honeytoken_text(&a))
            .show()
        {
            tracing::warn!(error = %e, "cannot show a notification");
        }
    }
}

/// The notification for a token used from a new network or client.
pub fn new_source_text(a: &tessera_core::NewSourceAlert) -> String {
    let new = match (&a.network, &a.client) {
        (Some(n), Some(c)) => format!("a new network ({n}) and a new client ({c})"),
        (Some(n), None) => format!("a new network ({n})"),
        (None, Some(c)) => format!("a new client ({c})"),
        (None, None) => "somewhere new".into(),
    };
    format!(
        "Token \"{}\" ({}) was used from {new}{}. If you do not recognise it, revoke or rotate the token.",
        a.name,
        a.hint,
        a.ip.as_deref()
            .map(|ip| format!(", address {ip}"))
            .unwrap_or_default()
    )
}

/// Announce each new-source alert once to the person it concerns (the token's owner; for a
/// company token, those who manage company tokens). While the session is locked nothing is
/// shown or marked.
async fn check_new_sources<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    let Ok(core) = state.core() else {
        return;
    };
    let Some((actor, locked)) = state.signed_in_actor().await else {
        return;
    };
    if locked {
        return;
    }
    let alerts = match core.take_new_source_notices(&actor).await {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "cannot check new-source alerts");
            return;
        }
    };
    for a in alerts {
        if let Err(e) = app
            .notification()
            .builder()
            .title("Tessera: a token was used from a new place")
            .body(new_source_text(&a))
            .show()
        {
            tracing::warn!(error = %e, "cannot show a notification");
        }
    }
}
