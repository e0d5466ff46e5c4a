//! One function per subcommand: unpack arguments into core types, call the core, print.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tessera_core::error::Field;
use tessera_core::keys::{KeyLocation, KeyStoreChoice};
use tessera_core::model::{Email, Networks, Role, Scope, TokenId};
use tessera_core::password::Password;
use tessera_core::policy::{ExpiryRequest, Policy};
use tessera_core::service::{Presented, RotateRequest};
use tessera_core::store::audit::AuditFilter;
use tessera_core::store::tokens::TokenFilter;
use tessera_core::token::TokenKind;
use tessera_core::{Error, NewToken, NewUser, OpenOptions, Result, StatusAction, Tessera};

use crate::args::{
    As, AuditCmd, CertCmd, Cli, Command, CreateArgs, DevCmd, KeyCmd, Kind, OnOff, PolicyCmd,
    PostmanCmd, RotateArgs, ScopeCmd, TokenCmd, UserCmd,
};
use crate::output;

pub async fn run(cli: Cli) -> Result<ExitCode> {
    let data_dir = data_dir(cli.data_dir)?;
    let t = open(&data_dir, cli.database_url, cli.key_file).await?;
    let code = dispatch(&t, &data_dir, cli.command).await;
    t.close().await;
    code
}

fn data_dir(flag: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(d) = flag.filter(|d| !d.as_os_str().is_empty()) {
        return Ok(d);
    }
    dirs::data_dir().map(|d| d.join("tessera")).ok_or_else(|| {
        Error::state(
            "no platform data dir is known here; pass --data-dir DIR or set TESSERA_DATA_DIR",
        )
    })
}

async fn open(
    data_dir: &Path,
    database_url: Option<String>,
    key_file: Option<PathBuf>,
) -> Result<Tessera> {
    let keystore: KeyStoreChoice = std::env::var("TESSERA_KEYSTORE")
        .unwrap_or_default()
        .parse()?;
    let explicit_key = key_file.is_some();
    let t = Tessera::open(OpenOptions {
        database_url,
        key_file,
        ..OpenOptions::new(data_dir, keystore)
    })
    .await?;
    if let (KeyLocation::File(p), false) = (t.key_location(), explicit_key) {
        eprintln!(
            "warning: no OS keyring is in use; the token-hashing key is kept in {} (mode 0600). \
             Protect and back up this file together with the database.",
            p.display()
        );
    }
    Ok(t)
}

pub(crate) async fn actor(t: &Tessera, who: &As) -> Result<tessera_core::Actor> {
    let flags = [(Field::Email, "--as")];
    let email = who
        .as_email
        .as_deref()
        .map(str::parse::<Email>)
        .transpose()
        .map_err(|e| output::relabel(e, &flags))?;
    t.actor(email.as_ref())
        .await
        .map_err(|e| output::relabel(e, &flags))
}

fn read_password(confirm: bool) -> Result<Password> {
    if let Ok(p) = std::env::var("TESSERA_PASSWORD") {
        return Password::new(p);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::invalid(
            Field::Password,
            "no terminal to ask on; set TESSERA_PASSWORD in the environment",
        ));
    }
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .map_err(|e| Error::internal("cannot read the password from the terminal", e))
    };
    let first = ask("Password (at least 12 characters): ")?;
    let pw = Password::new(first.clone())?;
    if confirm && ask("Repeat the password: ")? != first {
        return Err(Error::invalid(
            Field::Password,
            "the two entries differ; try again",
        ));
    }
    Ok(pw)
}

fn token_id(s: &str) -> Result<TokenId> {
    s.parse()
}

fn write_out(out: Option<&Path>, text: &str, what: &str) -> Result<()> {
    match out {
        Some(p) => {
            std::fs::write(p, text).map_err(|e| {
                Error::invalid(
                    None,
                    format!(
                        "--out: cannot write {} ({e}); choose a writable path",
                        p.display()
                    ),
                )
            })?;
            eprintln!("Wrote {what} to {}", p.display());
            Ok(())
        }
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

async fn dispatch(t: &Tessera, data_dir: &Path, cmd: Command) -> Result<ExitCode> {
    match cmd {
        Command::Init {
            company,
            admin_email,
            admin_name,
        } => {
            // Init names the admin's e-mail and name with flags of their own.
            let flags = [
                (Field::Email, "--admin-email"),
                (Field::Name, "--admin-name"),
            ];
            let email: Email = admin_email
                .parse()
                .map_err(|e| output::relabel(e, &flags))?;
            let pw = read_password(true)?;
            let u = t
                .init(
                    &company,
                    NewUser {
                        email,
                        name: admin_name,
                        role: Role::Admin,
                        password: pw,
                        source_group: String::new(),
                    },
                )
                .await
                .map_err(|e| output::relabel(e, &flags))?;
            println!(
                "Set up {company} in {} with admin {}.",
                data_dir.display(),
                u.email
            );
        }
        Command::User(c) => user(t, c).await?,
        Command::Scope(c) => scope(t, c).await?,
        Command::Key(c) => key(t, c).await?,
        Command::Token(c) => return token(t, c).await,
        Command::Client(c) => return crate::clients::run(t, c).await,
        Command::Audit {
            cmd: Some(AuditCmd::Verify { json, who }),
            ..
        } => return audit_verify(t, &who, json).await,
        Command::Audit {
            cmd: None,
            actor: by,
            action,
            limit,
            json,
            who,
        } => {
            let a = actor(t, &who).await?;
            let rows = t
                .audit(
                    &a,
                    &AuditFilter {
                        actor: by,
                        action,
                        limit,
                        ..Default::default()
                    },
                )
                .await?;
            if json {
                output::json(&rows)?;
            } else {
                output::audit_table(&rows);
            }
        }
        Command::Policy(PolicyCmd::Show { json }) => {
            let p = t.policy().await?;
            if json {
                output::json(&p)?;
            } else {
                output::policy(&p)?;
            }
        }
        Command::Policy(PolicyCmd::Set { key, value, who }) => {
            let a = actor(t, &who).await?;
            let p = set_policy_value(t.policy().await?, &key, &value)?;
            t.set_policy(&a, p).await?;
            println!("Policy {key} set to {value}.");
        }
        Command::Dev(DevCmd::Seed { tokens, events }) => {
            let a = actor(t, &As { as_email: None }).await?;
            let started = std::time::Instant::now();
            let s = t.dev_seed(&a, tokens, events).await?;
            println!(
                "Seeded {} users, {} tokens and {} usage events in {:.1} s.",
                s.users,
                s.tokens,
                s.events,
                started.elapsed().as_secs_f64()
            );
        }
        Command::Serve {
            listen,
            accept_broken_audit,
        } => return serve(t, data_dir, &listen, accept_broken_audit).await,
        Command::Scan(args) => {
            let a = actor(t, &args.who).await?;
            return crate::scan::run(t, &a, args).await;
        }
        Command::Cert(CertCmd::Export { out }) => {
            let pem = tessera_api::export_ca(data_dir)?;
            write_out(out.as_deref(), &pem, "the CA certificate")?;
        }
        Command::Postman(PostmanCmd::Collection { out }) => {
            let c = tessera_api::postman::collection();
            let text = serde_json::to_string_pretty(&c)
                .map_err(|e| Error::internal("cannot encode JSON", e))?
                + "\n";
            write_out(out.as_deref(), &text, "the Postman collection")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn set_policy_value(p: Policy, key: &str, value: &str) -> Result<Policy> {
    let mut v = serde_json::to_value(&p).map_err(|e| Error::internal("cannot encode policy", e))?;
    let obj = v
        .as_object_mut()
        .ok_or_else(|| Error::internal("policy is not an object", "shape"))?;
    let current = obj.get(key).ok_or_else(|| {
        Error::invalid(
            None,
            format!(
                "KEY: unknown policy key '{key}'; use one of: {}",
                obj.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        )
    })?;
    let new = match current {
        serde_json::Value::Bool(_) => serde_json::Value::Bool(match value {
            "true" | "yes" | "on" => true,
            "false" | "no" | "off" => false,
            _ => {
                return Err(Error::invalid(
                    None,
                    format!("VALUE: {key} takes true or false"),
                ))
            }
        }),
        _ => serde_json::Value::from(
            value
                .parse::<u32>()
                .map_err(|_| Error::invalid(None, format!("VALUE: {key} takes a whole number")))?,
        ),
    };
    obj.insert(key.to_owned(), new);
    serde_json::from_value(v).map_err(|e| Error::invalid(None, format!("VALUE: {e}")))
}

async fn user(t: &Tessera, c: UserCmd) -> Result<()> {
    match c {
        UserCmd::Add {
            email,
            name,
            role,
            source_group,
            who,
        } => {
            let a = actor(t, &who).await?;
            let email: Email = email.parse()?;
            let role: Role = role.parse()?;
            let pw = read_password(true)?;
            let u = t
                .add_user(
                    &a,
                    NewUser {
                        email,
                        name,
                        role,
                        password: pw,
                        source_group,
                    },
                )
                .await?;
            println!("Added {} ({}) as {}.", u.name, u.email, u.role);
        }
        UserCmd::List { json, who } => {
            let a = actor(t, &who).await?;
            let users = t.list_users(&a).await?;
            if json {
                output::json(&users)?;
            } else {
                output::users_table(&users);
            }
        }
        UserCmd::SetRole { email, role, who } => {
            let a = actor(t, &who).await?;
            let (u, lost) = t.set_role(&a, &email.parse()?, role.parse()?).await?;
            println!("{} is now {}.", u.email, u.role);
            if !lost.is_empty() {
                println!("Their tokens no longer grant: {}", lost.join(" "));
            }
        }
        UserCmd::Deactivate { email, who } => {
            let a = actor(t, &who).await?;
            let (u, n) = t.deactivate_user(&a, &email.parse()?).await?;
            println!(
                "Deactivated {}; revoked {n} user and personal token(s). Company tokens stay.",
                u.email
            );
        }
        UserCmd::Reactivate { email, who } => {
            let a = actor(t, &who).await?;
            let u = t.reactivate_user(&a, &email.parse()?).await?;
            println!(
                "Reactivated {}. Their earlier tokens stay revoked.",
                u.email
            );
        }
    }
    Ok(())
}

async fn scope(t: &Tessera, c: ScopeCmd) -> Result<()> {
    match c {
        ScopeCmd::Add {
            name,
            description,
            who,
        } => {
            let a = actor(t, &who).await?;
            // The scope's name is an argument here, not --name.
            let flags = [(Field::Name, "NAME"), (Field::Scopes, "NAME")];
            let name = name.parse().map_err(|e| output::relabel(e, &flags))?;
            let s = t
                .add_scope(&a, &name, &description)
                .await
                .map_err(|e| output::relabel(e, &flags))?;
            println!("Added scope {}.", s.name);
        }
        ScopeCmd::List { json } => {
            let scopes = t.list_scopes().await?;
            if json {
                output::json(&scopes)?;
            } else {
                output::scopes_table(&scopes);
            }
        }
    }
    Ok(())
}

async fn key(t: &Tessera, c: KeyCmd) -> Result<()> {
    match c {
        KeyCmd::List { json, who } => {
            let keys = t.list_keys(&actor(t, &who).await?).await?;
            if json {
                output::json(&keys)?;
            } else {
                output::keys_table(&keys);
            }
        }
        KeyCmd::Rotate { prepare, who } => {
            let r = t.rotate_key(&actor(t, &who).await?, prepare).await?;
            if r.prepared {
                println!(
                    "Prepared key {} in {}; it is not in use yet. Copy the key file to every instance, \
                     then run `tessera key rotate` to hash new tokens with it.",
                    r.id, r.kept_in
                );
            } else {
                println!(
                    "New tokens are hashed with key {} (kept in {}); tokens made before keep verifying with their keys.",
                    r.id, r.kept_in
                );
                if t.store().engine() == tessera_core::store::Engine::Postgres {
                    println!(
                        "Copy the key file to every instance now: until an instance has key {}, it reports itself \
                         unhealthy on /healthz and creates no tokens.",
                        r.id
                    );
                }
            }
        }
        KeyCmd::Retire {
            id,
            revoke_them,
            who,
        } => {
            let r = t
                .retire_key(&actor(t, &who).await?, id, revoke_them)
                .await?;
            for tok in &r.revoked {
                println!("Revoked token {tok}.");
            }
            println!("Retired key {}.", r.id);
        }
    }
    Ok(())
}

fn kind(k: Kind) -> TokenKind {
    match k {
        Kind::User => TokenKind::User,
        Kind::Personal => TokenKind::Personal,
        Kind::Company => TokenKind::Company,
        Kind::Access => TokenKind::Access,
    }
}

async fn create(t: &Tessera, c: CreateArgs) -> Result<ExitCode> {
    let a = actor(t, &c.who).await?;
    let expiry = match (&c.expires_in, &c.expires_at, c.no_expiry) {
        (Some(s), _, _) => ExpiryRequest::parse_in(s)?,
        (_, Some(s), _) => ExpiryRequest::parse_at(s)?,
        (_, _, true) => ExpiryRequest::Never,
        _ => ExpiryRequest::Default,
    };
    let scopes = c
        .scopes
        .iter()
        .map(|s| s.parse::<Scope>())
        .collect::<Result<Vec<_>>>()?;
    let owner_flag = [(Field::Email, "--owner")];
    let owner = c
        .owner
        .as_deref()
        .map(str::parse::<Email>)
        .transpose()
        .map_err(|e| output::relabel(e, &owner_flag))?;
    let networks = Networks::parse(&c.allow)?;
    // Check the Postman file can be written before the token exists, so a bad path loses nothing.
    if let Some(p) = &c.postman_env {
        check_writable(p)?;
    }
    let created = t
        .create_token(
            &a,
            NewToken {
                kind: kind(c.kind),
                owner,
                name: c.name,
                description: c.description,
                scopes,
                expiry,
                idle_days: c.idle_days,
                networks,
                rate_limit: c.rate_limit,
                honeytoken: c.honeytoken,
                alert_new_sources: match (c.alert_new_sources, c.no_alert_new_sources) {
                    (true, _) => Some(true),
                    (_, true) => Some(false),
                    _ => None,
                },
            },
        )
        .await
        .map_err(|e| output::relabel(e, &owner_flag))?;
    reveal(&created, c.postman_env.as_deref(), &c.base_url, c.json)
}

/// Print a new token once (and write its Postman file), as `token create` and `token rotate` do.
fn reveal(
    created: &tessera_core::CreatedToken,
    postman_env: Option<&Path>,
    base_url: &str,
    json: bool,
) -> Result<ExitCode> {
    if let Some(p) = postman_env {
        let env = tessera_api::postman::environment(base_url, &created.token, &created.info.name);
        let text = serde_json::to_string_pretty(&env)
            .map_err(|e| Error::internal("cannot encode JSON", e))?;
        write_secret_file(p, &text)?;
        eprintln!(
            "Wrote a Postman environment holding the token to {} (mode 0600).",
            p.display()
        );
    }
    if let Some(old) = created.replaced {
        eprintln!("The previous user API token ({old}) was revoked and stops working now.");
    }
    if json {
        let mut v = serde_json::to_value(&created.info)
            .map_err(|e| Error::internal("cannot encode JSON", e))?;
        if let Some(o) = v.as_object_mut() {
            o.insert("token".into(), created.token.expose().into());
            o.insert(
                "replaced".into(),
                serde_json::to_value(created.replaced).unwrap_or_default(),
            );
            o.insert(
                "rotated".into(),
                serde_json::to_value(created.rotated).unwrap_or_default(),
            );
        }
        output::json(&v)?;
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", created.token.expose())
            .map_err(|e| Error::internal("cannot write", e))?;
        if std::io::stderr().is_terminal() {
            eprintln!(
                "Token {} created. Copy it now: it will not be shown again.",
                created.info.id
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn rotate(t: &Tessera, r: RotateArgs) -> Result<ExitCode> {
    let a = actor(t, &r.who).await?;
    let id = token_id(&r.id)?;
    let req = RotateRequest::parse(r.overlap.as_deref(), r.grace.as_deref())?;
    if let Some(p) = &r.postman_env {
        check_writable(p)?;
    }
    let created = t.rotate_token(&a, id, req).await?;
    let old = t.get_token(&a, id).await?;
    match &old.rotation {
        Some(rot) => eprintln!(
            "Token {id} keeps working until {} or {} minutes after token {} is first used, whichever comes first; then it is revoked. `tessera token rotation {id}` shows who still uses it.",
            output::when(rot.overlap_ends_at),
            rot.grace_seconds / 60,
            created.info.id
        ),
        None => eprintln!("Token {id} was revoked and stops working now."),
    }
    reveal(&created, r.postman_env.as_deref(), &r.base_url, r.json)
}

pub(crate) fn check_writable(p: &Path) -> Result<()> {
    let dir = p
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(Error::invalid(
            None,
            format!(
                "--postman-env: the folder {} does not exist; choose an existing folder",
                dir.display()
            ),
        ));
    }
    if p.is_dir() {
        return Err(Error::invalid(
            None,
            format!(
                "--postman-env: {} is a folder; give a file name",
                p.display()
            ),
        ));
    }
    Ok(())
}

fn write_secret_file(p: &Path, text: &str) -> Result<()> {
    tessera_core::secret_file::write(p, text.as_bytes()).map_err(|e| {
        Error::invalid(None, format!(
            "--postman-env: cannot write {} ({e}); the token was created, so revoke it and try again",
            p.display()
        ))
    })
}

async fn token(t: &Tessera, c: TokenCmd) -> Result<ExitCode> {
    match c {
        TokenCmd::Create(args) => return create(t, *args).await,
        TokenCmd::List {
            owner,
            kind: k,
            status,
            search,
            limit,
            json,
            who,
        } => {
            let a = actor(t, &who).await?;
            let owner = match owner {
                Some(e) => Some(t.find_user(&e.parse()?).await?.id),
                None => None,
            };
            let rows = t
                .list_tokens(
                    &a,
                    &TokenFilter {
                        owner,
                        kind: k.map(kind),
                        status: status
                            .map(|s| s.parse::<tessera_core::model::TokenStatus>())
                            .transpose()?,
                        text: search.filter(|s| !s.trim().is_empty()),
                        limit,
                        ..Default::default()
                    },
                )
                .await?;
            if json {
                output::json(&rows)?;
            } else {
                output::tokens_table(&rows);
            }
        }
        TokenCmd::Show { id, json, who } => {
            let a = actor(t, &who).await?;
            let info = t.get_token(&a, token_id(&id)?).await?;
            if json {
                output::json(&info)?;
            } else {
                output::token_details(&info);
            }
        }
        TokenCmd::Note { id, text, who } => {
            let a = actor(t, &who).await?;
            let info = t.set_token_note(&a, token_id(&id)?, &text).await?;
            if info.note.is_empty() {
                println!("Cleared the note of token {}.", info.id);
            } else {
                println!("Token {} note: {}", info.id, info.note);
            }
        }
        TokenCmd::Alerts { id, state, who } => {
            let a = actor(t, &who).await?;
            let on = state == OnOff::On;
            let info = t.set_token_alerts(&a, token_id(&id)?, on).await?;
            if info.alert_new_sources {
                println!(
                    "Token {} ({}) now alerts when used from a new network or client.",
                    info.id, info.hint
                );
            } else {
                println!(
                    "Token {} ({}) no longer alerts on new networks or clients.",
                    info.id, info.hint
                );
            }
        }
        TokenCmd::Sources { id, json, who } => {
            let a = actor(t, &who).await?;
            let sources = t.token_sources(&a, token_id(&id)?).await?;
            if json {
                output::json(&sources)?;
            } else if sources.is_empty() {
                println!("Token {id} has not been accepted from anywhere yet.");
            } else {
                output::table(
                    &["KIND", "SOURCE", "FIRST SEEN"],
                    sources
                        .iter()
                        .map(|s| {
                            vec![
                                s.kind.clone(),
                                s.source.clone(),
                                output::date(Some(s.first_seen)),
                            ]
                        })
                        .collect(),
                );
            }
        }
        TokenCmd::Revoke { id, who } => status(t, &id, &who, StatusAction::Revoke).await?,
        TokenCmd::Deactivate { id, who } => status(t, &id, &who, StatusAction::Deactivate).await?,
        TokenCmd::Activate { id, who } => status(t, &id, &who, StatusAction::Activate).await?,
        TokenCmd::Delete { id, who } => {
            let a = actor(t, &who).await?;
            let id = token_id(&id)?;
            t.delete_token(&a, id).await?;
            println!("Deleted token {id}.");
        }
        TokenCmd::Verify { scopes, ip, json } => return verify(t, scopes, ip, json).await,
        TokenCmd::Rotate(r) => return rotate(t, *r).await,
        TokenCmd::Rotation { id, json, who } => {
            let a = actor(t, &who).await?;
            let report = t.rotation_report(&a, token_id(&id)?).await?;
            if json {
                output::json(&report)?;
            } else {
                output::token_details(&report.token);
                println!();
                if report.sources.is_empty() {
                    println!("Nobody has used it since the rotation began.");
                } else {
                    println!("Used since the rotation began (move these to the new token):");
                    output::sources_table(&report.sources);
                }
            }
        }
        TokenCmd::FinishRotation { id, who } => {
            let a = actor(t, &who).await?;
            let info = t.finish_rotation(&a, token_id(&id)?).await?;
            println!(
                "Finished the rotation of token {}: it is revoked and stops working now.",
                info.id
            );
        }
        TokenCmd::Explain {
            scopes,
            ip,
            at,
            id,
            json,
            who,
        } => {
            let a = actor(t, &who).await?;
            let (scopes, ip) = scopes_and_ip(&scopes, ip)?;
            let at = match at {
                None => time::OffsetDateTime::now_utc(),
                Some(s) => time::OffsetDateTime::parse(
                    s.trim(),
                    &time::format_description::well_known::Rfc3339,
                )
                .map_err(|_| {
                    Error::invalid(
                        Field::At,
                        "not an RFC 3339 time; write it like 2027-01-31T17:00:00Z",
                    )
                })?,
            };
            let input;
            let what = match &id {
                Some(id) => Presented::Id(token_id(id)?),
                None => {
                    input = read_token()?;
                    Presented::Token(&input)
                }
            };
            let e = t
                .explain(&a, what, &scopes, ip, at.unix_timestamp())
                .await?;
            if json {
                output::json(&e)?;
            } else {
                output::explanation(&e);
            }
            return Ok(if e.accepted {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        TokenCmd::Usage {
            id,
            limit,
            json,
            who,
        } => {
            let a = actor(t, &who).await?;
            let rows = t.token_usage(&a, token_id(&id)?, limit).await?;
            if json {
                output::json(&rows)?;
            } else {
                output::usage_table(&rows);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn status(t: &Tessera, id: &str, who: &As, action: StatusAction) -> Result<()> {
    let a = actor(t, who).await?;
    let info = t.set_token_status(&a, token_id(id)?, action).await?;
    println!("Token {} ({}) is now {}.", info.id, info.name, info.status);
    Ok(())
}

/// `--scope` and `--ip` as given to `token verify` and `token explain`.
fn scopes_and_ip(
    scopes: &[String],
    ip: Option<String>,
) -> Result<(Vec<Scope>, Option<std::net::IpAddr>)> {
    let scopes = scopes
        .iter()
        .map(|s| s.parse::<Scope>())
        .collect::<Result<Vec<_>>>()?;
    let ip = ip
        .map(|s| {
            s.trim().parse::<std::net::IpAddr>().map_err(|_| {
                Error::invalid(
                    Field::Ip,
                    "not an IP address; use a form like 203.0.113.7 or 2001:db8::1",
                )
            })
        })
        .transpose()?;
    Ok((scopes, ip))
}

/// A token piped in on standard input (at most 4 KiB; surrounding space is ignored later).
fn read_token() -> Result<zeroize::Zeroizing<String>> {
    let mut input = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut input)
        .map_err(|_| {
            Error::invalid(
                Field::Token,
                "cannot read the token from standard input; pipe it in as text",
            )
        })?;
    Ok(input)
}

async fn verify(
    t: &Tessera,
    scopes: Vec<String>,
    ip: Option<String>,
    json: bool,
) -> Result<ExitCode> {
    let (scopes, ip) = scopes_and_ip(&scopes, ip)?;
    let input = read_token()?;
    let now = time::OffsetDateTime::now_utc();
    let d = t.verify(&input, &scopes, ip, now).await?;
    if let Some(id) = d.honeytoken {
        let seen = tessera_core::service::HoneytokenUse {
            ip,
            user_agent: Some("tessera token verify"),
            method: "VERIFY",
            path: "stdin",
        };
        t.honeytoken_used(id, seen).await?;
    }
    if let Some(tok) = &d.token {
        t.record_uses(&[tessera_core::store::usage::UseEvent {
            token_id: tok.id,
            at: now,
            ip,
            user_agent: Some(concat!("tessera-cli/", env!("CARGO_PKG_VERSION")).into()),
            method: "CLI".into(),
            path: "token verify".into(),
            status: if d.accepted() { 0 } else { 1 },
            outcome: d.outcome(),
            via: "cli",
        }])
        .await?;
    }
    if json {
        output::json(&output::DecisionOut::from(&d))?;
    } else {
        output::decision(&d);
    }
    Ok(if d.accepted() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn audit_verify(t: &Tessera, who: &As, json: bool) -> Result<ExitCode> {
    // The local operator may always check; someone acting --as another user must be an admin.
    let check = match &who.as_email {
        None => t.verify_audit().await?,
        Some(_) => t.verify_audit_as(&actor(t, who).await?).await?,
    };
    if json {
        output::json(&check)?;
    }
    match &check.problem {
        None => {
            if !json {
                println!(
                    "audit log intact: {} entries, head {}",
                    check.entries,
                    check.head.get(..16).unwrap_or(&check.head)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(p) => {
            eprintln!("error: audit: {}", p.message);
            Ok(ExitCode::from(1))
        }
    }
}

async fn serve(
    t: &Tessera,
    data_dir: &Path,
    listen: &str,
    accept_broken_audit: bool,
) -> Result<ExitCode> {
    let addr: std::net::SocketAddr = listen.parse().map_err(|_| {
        Error::invalid(
            None,
            format!(
                "--listen: '{listen}' is not an address and port; use a form like 127.0.0.1:8443"
            ),
        )
    })?;
    if let Some(p) = t.verify_audit().await?.problem {
        if !accept_broken_audit {
            return Err(Error::state(format!(
                "audit: {}; the API was not started. Find out what happened (`tessera audit \
                 verify`), or start anyway with --accept-broken-audit",
                p.message
            )));
        }
        tracing::warn!(problem = %p.message, "the audit log is broken; starting anyway");
        eprintln!(
            "warning: audit: {}; starting anyway because of --accept-broken-audit.",
            p.message
        );
    }
    if !addr.ip().is_loopback() {
        eprintln!("warning: listening on {addr}, which is reachable from other machines.");
    }
    let server = tessera_api::start(
        t.clone(),
        tessera_api::ServerConfig {
            listen: addr,
            data_dir: data_dir.to_owned(),
        },
    )
    .await?;
    println!("Tessera API listening on https://{}", server.addr);
    println!("CA SHA-256 fingerprint: {}", server.fingerprint);
    println!("Export the CA for Postman or curl with: tessera cert export --out tessera-ca.pem");
    let _ = std::io::stdout().flush();
    wait_for_stop().await;
    eprintln!("Stopping: finishing requests and saving usage...");
    server.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
