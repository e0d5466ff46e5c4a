//! Thin `#[tauri::command]`s, one file per area: session check, core call, error mapping.
//! Every rights rule is the core's; these only say who is acting.

pub mod admin;
pub mod clients;
pub mod clipboard;
pub mod connection;
pub mod profile;
pub mod review;
pub mod session;
pub mod settings;
pub mod tokens;
