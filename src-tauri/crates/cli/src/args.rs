//! The command-line grammar. The contract (names, flags, exit codes) is documented in the
//! README; tests and scripts rely on it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "tessera",
    version,
    about = "Issue, store and verify API tokens",
    propagate_version = true
)]
pub struct Cli {
    /// Data directory (database, certificates). Default: $TESSERA_DATA_DIR, else the platform data dir.
    #[arg(long, global = true, env = "TESSERA_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// A team's PostgreSQL database (postgres://USER:PASSWORD@HOST:PORT/DATABASE) instead of the
    /// SQLite file in the data dir.
    #[arg(
        long,
        global = true,
        env = "TESSERA_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// The token-hashing key file (32 bytes, base64, mode 0600) that every instance on one
    /// PostgreSQL database shares; `init` creates it when absent. Required with --database-url.
    #[arg(long, global = true, env = "TESSERA_KEY_FILE", value_name = "PATH")]
    pub key_file: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the company and its first admin (password from $TESSERA_PASSWORD or a prompt).
    Init {
        #[arg(long)]
        company: String,
        #[arg(long)]
        admin_email: String,
        #[arg(long)]
        admin_name: String,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCmd),
    /// Manage scopes.
    #[command(subcommand)]
    Scope(ScopeCmd),
    /// Create, list and manage tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Register and manage OAuth 2.0 clients (client credentials grant).
    #[command(subcommand)]
    Client(ClientCmd),
    /// Show the audit log (newest first), or check it with `tessera audit verify`.
    #[command(args_conflicts_with_subcommands = true)]
    Audit {
        #[command(subcommand)]
        cmd: Option<AuditCmd>,
        /// Only entries by this actor (an e-mail or `operator`).
        #[arg(long)]
        actor: Option<String>,
        /// Only this action, e.g. token.create.
        #[arg(long)]
        action: Option<String>,
        #[arg(long, default_value_t = 200)]
        limit: u32,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        who: As,
    },
    /// Show or change the installation's policy.
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Run the HTTPS API.
    Serve {
        /// Address to listen on. Another address than loopback must be asked for explicitly.
        #[arg(long, env = "TESSERA_API_LISTEN", default_value = "127.0.0.1:8443")]
        listen: String,
        /// Start even if the audit log's hash chain is broken (a warning is printed instead).
        #[arg(long)]
        accept_broken_audit: bool,
    },
    /// Find Tessera tokens in files, folders or standard input and say what each is here.
    /// Exit 1 when a live token is found.
    Scan(ScanArgs),
    /// The token-hashing keys: list, rotate to a new one, retire an old one.
    #[command(subcommand)]
    Key(KeyCmd),
    /// Certificates of the HTTPS API.
    #[command(subcommand)]
    Cert(CertCmd),
    /// Postman files.
    #[command(subcommand)]
    Postman(PostmanCmd),
    /// Developer tools.
    #[command(subcommand)]
    Dev(DevCmd),
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or folders to read (folders recursively; `.git` and binary files are skipped).
    #[arg(value_name = "PATH", required_unless_present = "stdin")]
    pub paths: Vec<PathBuf>,
    /// Read standard input instead, e.g. `git log -p | tessera scan --stdin`.
    #[arg(long, conflicts_with = "paths")]
    pub stdin: bool,
    /// Revoke every live token found that you may manage (asks first unless --yes).
    #[arg(long)]
    pub revoke: bool,
    /// Revoke without asking.
    #[arg(long, requires = "revoke")]
    pub yes: bool,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub who: As,
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Check the audit log's hash chain and triggers. Exit 0 when intact, 1 when not.
    Verify {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        who: As,
    },
}

#[derive(Debug, Subcommand)]
pub enum DevCmd {
    /// Fill the data dir with realistic users, tokens and usage events for scale testing.
    /// Seeded tokens have random hashes: no plaintext exists for them.
    Seed {
        #[arg(long, default_value_t = 1000)]
        tokens: u32,
        #[arg(long, default_value_t = 10000)]
        events: u32,
    },
}

#[derive(Debug, Args)]
pub struct As {
    /// Act as this user, with that user's rights (default: the local operator, full rights).
    #[arg(long = "as", value_name = "EMAIL")]
    pub as_email: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Add a user (password from $TESSERA_PASSWORD or a prompt).
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, vrm_admin or user.
        #[arg(long)]
        role: String,
        /// Default source group applied to what the user's tokens create.
        #[arg(long, default_value = "")]
        source_group: String,
        #[command(flatten)]
        who: As,
    },
    /// List users.
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        who: As,
    },
    /// Change a user's role; their tokens follow at once.
    SetRole {
        email: String,
        role: String,
        #[command(flatten)]
        who: As,
    },
    /// Deactivate a user and revoke their user and personal tokens.
    Deactivate {
        email: String,
        #[command(flatten)]
        who: As,
    },
    /// Reactivate a user (their revoked tokens stay revoked).
    Reactivate {
        email: String,
        #[command(flatten)]
        who: As,
    },
}

#[derive(Debug, Subcommand)]
pub enum ScopeCmd {
    /// Add a custom scope.
    Add {
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        #[command(flatten)]
        who: As,
    },
    /// List scopes and which roles may hold them.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    User,
    Personal,
    Company,
    /// OAuth access tokens (listed only when asked for; clients get them from /oauth/token).
    Access,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[arg(long, value_enum)]
    pub kind: Kind,
    /// Owner of a user or personal token (default: the --as user).
    #[arg(long)]
    pub owner: Option<String>,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// A scope to grant; repeat for several (default: me:read).
    #[arg(long = "scope", value_name = "S")]
    pub scopes: Vec<String>,
    /// Lifetime: 90s, 45m, 12h, 30d, 2w or 1y.
    #[arg(long, group = "expiry")]
    pub expires_in: Option<String>,
    /// Exact expiry, RFC 3339 (2027-01-31T17:00:00Z).
    #[arg(long, group = "expiry")]
    pub expires_at: Option<String>,
    /// Never expire (only where policy allows).
    #[arg(long, group = "expiry")]
    pub no_expiry: bool,
    /// Expire after this many days unused; each accepted use renews it.
    #[arg(long)]
    pub idle_days: Option<u32>,
    /// An IP address or CIDR range the token may be used from; repeat for several.
    #[arg(long = "allow", value_name = "IP_OR_CIDR")]
    pub allow: Vec<String>,
    /// Requests per minute (default: the policy's default, 50% of the maximum).
    #[arg(long)]
    pub rate_limit: Option<u32>,
    /// Also write a Postman environment holding the new token to this file.
    #[arg(long, value_name = "FILE")]
    pub postman_env: Option<std::path::PathBuf>,
    /// Base URL written into the Postman environment.
    #[arg(long, default_value = "https://127.0.0.1:8443")]
    pub base_url: String,
    /// A honeytoken (admins): looks like any token of its kind, never grants anything, and
    /// every presentation is answered like an unknown token and raises an alert.
    #[arg(long)]
    pub honeytoken: bool,
    /// Alert when the token is used from a network (IPv4 /24, IPv6 /48) or client (user agent
    /// family) it was never used from (the default for company tokens).
    #[arg(long, conflicts_with = "no_alert_new_sources")]
    pub alert_new_sources: bool,
    /// No new-source alerts (the default for user and personal tokens).
    #[arg(long)]
    pub no_alert_new_sources: bool,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub who: As,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    pub id: String,
    /// How long the old token keeps working beside the new one: 30m, 24h, 7d (at most 30d),
    /// or none to revoke it now.
    #[arg(long, default_value = "24h")]
    pub overlap: Option<String>,
    /// How long the old token keeps working after the new one is first used (in-flight
    /// deploys finish): 10m by default, at most 1d, none for no grace.
    #[arg(long, default_value = "10m")]
    pub grace: Option<String>,
    /// Also write a Postman environment holding the new token to this file.
    #[arg(long, value_name = "FILE")]
    pub postman_env: Option<std::path::PathBuf>,
    /// Base URL written into the Postman environment.
    #[arg(long, default_value = "https://127.0.0.1:8443")]
    pub base_url: String,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub who: As,
}

#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Create a token and print it once.
    Create(Box<CreateArgs>),
    /// List tokens you may see.
    List {
        #[arg(long)]
        owner: Option<String>,
        #[arg(long, value_enum)]
        kind: Option<Kind>,
        /// active, rotating, deactivated, revoked or expired.
        #[arg(long)]
        status: Option<String>,
        /// Free-text search in name, description, hint and owner.
        #[arg(long)]
        search: Option<String>,
        /// At most this many tokens.
        #[arg(long, default_value_t = 100_000)]
        limit: u32,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        who: As,
    },
    /// Show one token's details (never the token itself).
    Show {
        id: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        who: As,
    },
    /// Set a token's note (free text: what uses it now, who to ask); "" clears it.
    Note {
        id: String,
        text: String,
        #[command(flatten)]
        who: As,
    },
    /// Turn new-source alerts on or off: an audit entry (token.new_source) and a notice to
    /// the owner (to admins for a company token) when the token is used from a network or
    /// client it was never used from.
    Alerts {
        id: String,
        #[arg(value_enum)]
        state: OnOff,
        #[command(flatten)]
        who: As,
    },
    /// The networks (IPv4 /24, IPv6 /48) and clients (user agent families) a token was
    /// accepted from, oldest first.
    Sources {
        id: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        who: As,
    },
    /// Revoke a token for good.
    Revoke {
        id: String,
        #[command(flatten)]
        who: As,
    },
    /// Deactivate a token (it can be activated again).
    Deactivate {
        id: String,
        #[command(flatten)]
        who: As,
    },
    /// Activate a deactivated token.
    Activate {
        id: String,
        #[command(flatten)]
        who: As,
    },
    /// Delete a token and its usage history (the audit log keeps a record).
    Delete {
        id: String,
        #[command(flatten)]
        who: As,
    },
    /// Replace a token by a successor with the same name, scopes, networks, rate limit, idle
    /// days and a fresh expiry of the same length, printed once. The old token keeps working
    /// until the overlap ends or the successor's first use plus the grace, then is revoked.
    Rotate(Box<RotateArgs>),
    /// A rotating token: when it stops working and the addresses and clients still using it.
    Rotation {
        id: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        who: As,
    },
    /// End a rotation now: the old token is revoked (reason: rotated).
    FinishRotation {
        id: String,
        #[command(flatten)]
        who: As,
    },
    /// Check a token read from standard input. Exit 0 when accepted, 1 when refused.
    Verify {
        /// A scope the token must have; repeat for several.
        #[arg(long = "scope", value_name = "S")]
        scopes: Vec<String>,
        /// The address the token is presented from (checked against its networks).
        #[arg(long)]
        ip: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Why a token is accepted or refused: every rule with what it compared (token read from
    /// standard input, or --id for one you manage). Records no use. Exit 0 when it would be
    /// accepted, 1 when refused.
    Explain {
        /// A scope to ask about; repeat for several.
        #[arg(long = "scope", value_name = "S")]
        scopes: Vec<String>,
        /// The address it is presented from (checked against its networks).
        #[arg(long)]
        ip: Option<String>,
        /// Judge it at this time instead of now, RFC 3339 (2027-01-31T17:00:00Z).
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        /// A token you manage, by id, instead of one read from standard input.
        #[arg(long, value_name = "ID")]
        id: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        who: As,
    },
    /// Recent uses of a token.
    Usage {
        id: String,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        who: As,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCmd {
    /// Show the policy.
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Change one policy value, e.g. `tessera policy set expiry_required false`.
    Set {
        key: String,
        value: String,
        #[command(flatten)]
        who: As,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCmd {
    /// List the keys: which hashes new tokens, how many live tokens each still verifies.
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        who: As,
    },
    /// Hash new tokens with a new key from now on; tokens hashed with older keys keep
    /// verifying. On a team, copy the key file to every instance afterwards (or first, with
    /// --prepare).
    Rotate {
        /// Only add the next key to the key file (or keyring), not yet in use: copy the file to
        /// every instance, then run `tessera key rotate` again to start using it.
        #[arg(long)]
        prepare: bool,
        #[command(flatten)]
        who: As,
    },
    /// Stop verifying with key ID and forget it. Refused while tokens it hashed still verify,
    /// unless --revoke-them.
    Retire {
        #[arg(value_name = "ID")]
        id: u32,
        /// Revoke the live tokens the key still verifies (each audited), then retire it.
        #[arg(long)]
        revoke_them: bool,
        #[command(flatten)]
        who: As,
    },
}

#[derive(Debug, Subcommand)]
pub enum CertCmd {
    /// Write the API's CA certificate (PEM) for Postman and curl.
    Export {
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct ClientCreateArgs {
    #[arg(long)]
    pub name: String,
    /// What service uses the client and who runs it.
    #[arg(long, default_value = "")]
    pub description: String,
    /// A scope its tokens may carry; repeat for several (default: me:read).
    #[arg(long = "scope", value_name = "S")]
    pub scopes: Vec<String>,
    /// An IP address or CIDR range it may get and use tokens from; repeat for several.
    #[arg(long = "allow", value_name = "IP_OR_CIDR")]
    pub allow: Vec<String>,
    /// Requests per minute, for its token requests and its tokens together.
    #[arg(long)]
    pub rate_limit: Option<u32>,
    /// Lifetime of the access tokens it gets: 1s to 24h (default 1h).
    #[arg(long, value_name = "DURATION")]
    pub token_ttl: Option<String>,
    /// Also write a Postman environment (baseUrl, clientId, clientSecret) to this file.
    #[arg(long, value_name = "FILE")]
    pub postman_env: Option<std::path::PathBuf>,
    /// Also write the client's Postman collection (fetches and caches its token) to this file.
    #[arg(long, value_name = "FILE")]
    pub postman_collection: Option<std::path::PathBuf>,
    /// Base URL written into the Postman environment.
    #[arg(long, default_value = "https://127.0.0.1:8443")]
    pub base_url: String,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub who: As,
}

#[derive(Debug, Subcommand)]
pub enum ClientCmd {
    /// Register a client and print its client_id and secret (the secret once).
    Create(Box<ClientCreateArgs>),
    /// List clients: scopes, networks, token lifetime, secrets, tokens issued in 24 h.
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        who: As,
    },
    /// Show one client.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        who: As,
    },
    /// A new secret, printed once; the old one keeps working until it is retired.
    RotateSecret {
        id: String,
        /// Also write a Postman environment with the new secret to this file.
        #[arg(long, value_name = "FILE")]
        postman_env: Option<std::path::PathBuf>,
        #[arg(long, default_value = "https://127.0.0.1:8443")]
        base_url: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        who: As,
    },
    /// Retire one of a client's secrets (see `client show`): it stops working at once.
    RetireSecret {
        id: String,
        secret_id: String,
        #[command(flatten)]
        who: As,
    },
    /// Disable a client: no more tokens, and the tokens it holds are revoked at once.
    Disable {
        id: String,
        #[command(flatten)]
        who: As,
    },
    /// Enable a disabled client.
    Enable {
        id: String,
        #[command(flatten)]
        who: As,
    },
    /// Delete a client: its secrets stop working and its tokens are revoked at once.
    Delete {
        id: String,
        #[command(flatten)]
        who: As,
    },
}

#[derive(Debug, Subcommand)]
pub enum PostmanCmd {
    /// Write a Postman v2.1 collection of the API.
    Collection {
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
}

/// A setting's new state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}
