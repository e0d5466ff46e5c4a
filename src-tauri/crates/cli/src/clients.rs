//! `tessera client`: OAuth 2.0 clients. The rules are the core's
//! ([`tessera_core::service::Tessera::create_client`] and its neighbours).

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use tessera_core::error::Field;
use tessera_core::model::{Networks, Scope};
use tessera_core::service::{
    parse_token_ttl, ClientAction, ClientInfo, ClientStatus, ClientWithSecret, NewClient,
};
use tessera_core::{Error, Result, Tessera};

use crate::args::ClientCmd;
use crate::commands::{actor, check_writable};
use crate::output;

fn client_no(raw: &str) -> Result<i64> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            Error::invalid(
                None,
                format!(
                    "ID: '{}' is not a client number; see `tessera client list`",
                    tessera_core::text::clip(raw)
                ),
            )
        })
}

pub async fn run(t: &Tessera, c: ClientCmd) -> Result<ExitCode> {
    match c {
        ClientCmd::Create(c) => {
            let a = actor(t, &c.who).await?;
            let scopes = c
                .scopes
                .iter()
                .map(|s| s.parse::<Scope>())
                .collect::<Result<Vec<_>>>()?;
            let ttl = c.token_ttl.as_deref().map(parse_token_ttl).transpose()?;
            // The files are checked before the client exists, so a bad path loses nothing.
            for p in [&c.postman_env, &c.postman_collection]
                .into_iter()
                .flatten()
            {
                check_writable(p)?;
            }
            let made = t
                .create_client(
                    &a,
                    NewClient {
                        name: c.name,
                        description: c.description,
                        scopes,
                        networks: Networks::parse(&c.allow)?,
                        rate_limit: c.rate_limit,
                        token_ttl: ttl,
                    },
                )
                .await?;
            if let Some(p) = &c.postman_collection {
                let coll = tessera_api::postman::client_collection(&made.client.name);
                let text = serde_json::to_string_pretty(&coll)
                    .map_err(|e| Error::internal("cannot encode JSON", e))?;
                std::fs::write(p, text).map_err(|e| {
                    Error::invalid(
                        None,
                        format!("--postman-collection: cannot write {} ({e})", p.display()),
                    )
                })?;
                eprintln!("Wrote the client's Postman collection to {}.", p.display());
            }
            reveal(&made, c.postman_env.as_deref(), &c.base_url, c.json)
        }
        ClientCmd::List { json, who } => {
            let a = actor(t, &who).await?;
            let clients = t.list_clients(&a).await?;
            if json {
                output::json(&clients)?;
            } else {
                table(&clients);
            }
            Ok(ExitCode::SUCCESS)
        }
        ClientCmd::Show { id, json, who } => {
            let a = actor(t, &who).await?;
            let c = t.get_client(&a, client_no(&id)?).await?;
            if json {
                output::json(&c)?;
            } else {
                details(&c);
            }
            Ok(ExitCode::SUCCESS)
        }
        ClientCmd::RotateSecret {
            id,
            postman_env,
            base_url,
            json,
            who,
        } => {
            let a = actor(t, &who).await?;
            if let Some(p) = &postman_env {
                check_writable(p)?;
            }
            let made = t.rotate_client_secret(&a, client_no(&id)?).await?;
            if let Some(old) = made.client.secrets.get(1) {
                eprintln!(
                    "The previous secret ({}) keeps working until you retire it: tessera client retire-secret {} {}",
                    old.hint, made.client.id, old.id
                );
            }
            reveal(&made, postman_env.as_deref(), &base_url, json)
        }
        ClientCmd::RetireSecret { id, secret_id, who } => {
            let a = actor(t, &who).await?;
            let secret = secret_id.trim().parse::<i64>().map_err(|_| {
                Error::invalid(
                    Field::Secret,
                    "not a secret number; see the secrets of `tessera client show ID`",
                )
            })?;
            let c = t.retire_client_secret(&a, client_no(&id)?, secret).await?;
            println!(
                "Retired secret {secret} of client {}; it stops working now.",
                c.name
            );
            Ok(ExitCode::SUCCESS)
        }
        ClientCmd::Disable { id, who } => status(t, &id, &who, ClientAction::Disable).await,
        ClientCmd::Enable { id, who } => status(t, &id, &who, ClientAction::Enable).await,
        ClientCmd::Delete { id, who } => {
            let a = actor(t, &who).await?;
            let n = client_no(&id)?;
            t.delete_client(&a, n).await?;
            println!("Deleted client {n}: its secrets and tokens stop working now.");
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn status(
    t: &Tessera,
    id: &str,
    who: &crate::args::As,
    action: ClientAction,
) -> Result<ExitCode> {
    let a = actor(t, who).await?;
    let c = t.set_client_status(&a, client_no(id)?, action).await?;
    match action {
        ClientAction::Disable => println!(
            "Disabled client {}: it gets no tokens, and the tokens it held are revoked.",
            c.name
        ),
        ClientAction::Enable => println!("Enabled client {}.", c.name),
    }
    Ok(ExitCode::SUCCESS)
}

/// Print the client_id and, once, the secret (and write the Postman environment).
fn reveal(
    made: &ClientWithSecret,
    env: Option<&Path>,
    base_url: &str,
    json: bool,
) -> Result<ExitCode> {
    if let Some(p) = env {
        let v = tessera_api::postman::client_environment(
            base_url,
            &made.client.client_id,
            made.client_secret.expose(),
            &made.client.name,
        );
        let text = serde_json::to_string_pretty(&v)
            .map_err(|e| Error::internal("cannot encode JSON", e))?;
        tessera_core::secret_file::write(p, text.as_bytes()).map_err(|e| {
            Error::invalid(None, format!(
                "--postman-env: cannot write {} ({e}); the secret was made, so retire it (or delete the client) and try again",
                p.display()
            ))
        })?;
        eprintln!(
            "Wrote a Postman environment holding the client secret to {} (mode 0600).",
            p.display()
        );
    }
    if json {
        let mut v = serde_json::to_value(&made.client)
            .map_err(|e| Error::internal("cannot encode JSON", e))?;
        if let Some(o) = v.as_object_mut() {
            o.insert("client_secret".into(), made.client_secret.expose().into());
        }
        output::json(&v)?;
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(out, "client_id={}", made.client.client_id)
            .and_then(|()| writeln!(out, "client_secret={}", made.client_secret.expose()))
            .map_err(|e| Error::internal("cannot write", e))?;
        if std::io::stderr().is_terminal() {
            eprintln!(
                "Client {} ready. Copy the secret now: it will not be shown again. Get a token with:\n  curl --cacert ca.pem -u \"$CLIENT_ID:$CLIENT_SECRET\" -d grant_type=client_credentials https://HOST:8443/oauth/token",
                made.client.id
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn status_word(s: ClientStatus) -> &'static str {
    match s {
        ClientStatus::Active => "active",
        ClientStatus::Disabled => "disabled",
    }
}

fn table(clients: &[ClientInfo]) {
    output::table(
        &[
            "ID",
            "NAME",
            "CLIENT_ID",
            "STATUS",
            "SCOPES",
            "NETWORKS",
            "TOKEN TTL",
            "SECRETS",
            "ISSUED 24H",
            "USES",
            "LAST USED",
        ],
        clients
            .iter()
            .map(|c| {
                vec![
                    c.id.to_string(),
                    c.name.clone(),
                    c.client_id.clone(),
                    status_word(c.status).to_owned(),
                    c.scopes.join(" "),
                    if c.allowed_networks.is_empty() {
                        "any".to_owned()
                    } else {
                        c.allowed_networks.join(" ")
                    },
                    format!("{}s", c.token_ttl_seconds),
                    c.secrets
                        .iter()
                        .map(|s| s.hint.clone())
                        .collect::<Vec<_>>()
                        .join(" "),
                    c.tokens_issued_24h.to_string(),
                    c.uses.to_string(),
                    output::date(c.last_used_at),
                ]
            })
            .collect(),
    );
}

fn details(c: &ClientInfo) {
    println!("Client {} ({})", c.id, c.name);
    println!("  client_id:    {}", c.client_id);
    println!("  status:       {}", status_word(c.status));
    if !c.description.is_empty() {
        println!("  description:  {}", c.description);
    }
    println!("  scopes:       {}", c.scopes.join(" "));
    println!(
        "  networks:     {}",
        if c.allowed_networks.is_empty() {
            "any".to_owned()
        } else {
            c.allowed_networks.join(", ")
        }
    );
    println!(
        "  rate limit:   {}/min (its token requests and tokens together)",
        c.rate_limit
    );
    println!("  token ttl:    {}s", c.token_ttl_seconds);
    if let Some(e) = c.expires_at {
        println!(
            "  ends:         {} (registered through a token that expires then)",
            output::when(e)
        );
    }
    println!(
        "  created:      {} by {}",
        output::when(c.created_at),
        c.created_by
    );
    println!("  issued (24h): {}", c.tokens_issued_24h);
    println!("  uses:         {} (of all its access tokens)", c.uses);
    println!("  last used:    {}", output::date(c.last_used_at));
    for s in &c.secrets {
        println!(
            "  secret {}:    {} created {}, last used {}",
            s.id,
            s.hint,
            output::when(s.created_at),
            output::date(s.last_used_at)
        );
    }
}
