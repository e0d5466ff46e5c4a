fn main() {
    // The app's own commands, declared so that only windows granted them in
    // capabilities/ can call them.
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(tessera_commands())),
    )
    .expect("tauri-build failed");
}

fn tessera_commands() -> &'static [&'static str] {
    &[
        "app_status",
        "setup_company",
        "sign_in",
        "sign_out",
        "get_profile",
        "update_profile",
        "change_password",
        "get_user_token",
        "regenerate_user_token",
        "list_my_tokens",
        "get_token",
        "create_personal_token",
        "set_token_status",
        "delete_token",
        "list_grantable_scopes",
        "get_policy",
        "copy_secret",
        "clear_clipboard",
        "save_postman_environment",
        "create_company_token",
        "list_company_tokens",
        "list_users",
        "create_user",
        "preview_role_change",
        "set_user_role",
        "preview_deactivate_user",
        "deactivate_user",
        "reactivate_user",
        "list_all_tokens",
        "bulk_set_token_status",
        "token_usage_report",
        "get_dashboard",
        "list_audit",
        "export_audit_csv",
        "get_policy_settings",
        "update_policy",
        "list_scopes",
        "add_scope",
        "export_ca_certificate",
    ]
}
