//! Scanning files and folders (what the app's "Scan for leaked tokens" runs): tokens found by
//! file and line with what each is here; `.git` folders and binary files skipped; nothing
//! recorded as a use; a missing path named.

use tessera_core::model::Role;
use tessera_core::service::FoundStatus;
use tessera_core::token::{TokenKind, TokenSecret};
use tessera_core::NewToken;

use crate::common;

#[tokio::test]
async fn a_scan_finds_tokens_by_file_and_line_and_skips_git_and_binaries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, _admin) = common::company(dir.path()).await;
    let uli = common::person(&t, "uli@acme.test", Role::User).await;
    let live = t
        .create_token(&uli, NewToken::named(TokenKind::Personal, "ci"))
        .await
        .expect("create");
    let stranger = TokenSecret::generate(TokenKind::Company);
    let tree = tempfile::tempdir().expect("tree");
    let src = tree.path().join("src");
    std::fs::create_dir_all(src.join(".git")).expect("dirs");
    std::fs::write(
        src.join("deploy.env"),
        format!(
            "A=1\nTOKEN={}\n# {}\n",
            live.token.expose(),
            stranger.expose()
        ),
    )
    .expect("write");
    std::fs::write(src.join(".git").join("config"), live.token.expose()).expect("write");
    let mut binary = b"\0\0binary".to_vec();
    binary.extend_from_slice(live.token.expose().as_bytes());
    std::fs::write(src.join("blob.bin"), binary).expect("write");

    let report = t
        .scan_paths(&uli, &[tree.path().to_path_buf()])
        .await
        .expect("scan");
    let found: Vec<(String, usize, FoundStatus)> = report
        .hits
        .iter()
        .map(|h| (h.file.clone(), h.line, h.finding.status))
        .collect();
    let env = src.join("deploy.env").display().to_string();
    assert_eq!(
        found,
        [
            (env.clone(), 2, FoundStatus::Live),
            (env, 3, FoundStatus::Unknown)
        ]
    );
    assert_eq!(report.files, 1, "the binary file is not read as text");
    assert_eq!(
        report.hits[0].finding.token.as_ref().map(|i| i.id),
        Some(live.info.id)
    );
    let json = serde_json::to_string(&report).expect("json");
    assert!(
        !json.contains(live.token.expose()),
        "never the token itself"
    );
    let info = t.get_token(&uli, live.info.id).await.expect("get");
    assert_eq!(info.use_count, 0, "a scan is not a use");

    let e = t
        .scan_paths(&uli, &[tree.path().join("nope")])
        .await
        .expect_err("missing");
    assert!(e.to_string().contains("does not exist"), "{e}");
}
