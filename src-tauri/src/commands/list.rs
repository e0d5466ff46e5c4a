// The one list of the app's commands. `lib.rs` registers them (`generate_handler!`),
// `build.rs` declares them to Tauri's ACL and writes the permission the window's capability
// grants (`tessera-commands`), and the tests read it (`ipc_matrix.rs`, `contract.rs`, which
// hands the names to the UI's fakes). Adding a command: write it in `commands/<area>.rs`,
// add it here, give it a wrapper in `ui/src/lib/ipc.ts` and a row in `ipc_matrix.rs`.
//
// Plain `macro_rules!` (no imports) so that `build.rs` can `include!` this file.
macro_rules! for_each_command {
    ($then:ident) => {
        $then! {
            session::app_status,
            session::setup_company,
            session::sign_in,
            session::sign_out,
            profile::get_profile,
            profile::update_profile,
            profile::change_password,
            tokens::get_user_token,
            tokens::regenerate_user_token,
            tokens::list_my_tokens,
            tokens::list_company_tokens,
            tokens::get_token,
            tokens::create_personal_token,
            tokens::create_company_token,
            tokens::set_token_status,
            tokens::set_token_note,
            tokens::rotate_token,
            tokens::finish_rotation,
            tokens::delete_token,
            tokens::list_grantable_scopes,
            tokens::get_policy,
            clipboard::copy_secret,
            clipboard::clear_clipboard,
            clipboard::save_postman_environment,
            admin::list_users,
            admin::create_user,
            admin::preview_role_change,
            admin::set_user_role,
            admin::preview_deactivate_user,
            admin::deactivate_user,
            admin::reactivate_user,
            admin::list_all_tokens,
            admin::bulk_set_token_status,
            review::token_usage_report,
            review::explain_token,
            review::get_dashboard,
            review::acknowledge_honeytoken_alerts,
            review::scan_for_leaks,
            review::revoke_leaked_token,
            review::list_audit,
            review::export_audit_csv,
            settings::get_policy_settings,
            settings::update_policy,
            settings::list_scopes,
            settings::add_scope,
            settings::export_ca_certificate,
        }
    };
}
