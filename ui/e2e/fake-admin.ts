// The administration half of the in-page fake backend: users, company and all tokens (a small
// in-memory set, or 100,000 rows generated per page on demand), bulk status changes, usage
// reports, dashboard, audit log and settings. Fixture data; scopes, role rules, policy
// defaults, audit action names, filters, status changes and errors come from the real backend
// (./real.ts).
//
// Fakes store and replay; they never decide a refusal. This file stores users, tokens,
// scopes and the policy and looks them up (an unknown id or e-mail answers the real
// "unknown" error), refuses admin-only commands to other roles with the recorded
// `forbiddenForUser`, and looks status changes up in the recorded `statusTransitions`. Core
// rules such as "description required", unique names or "default at most the maximum" are
// not copied here: a test replays the real refusal through `scenario.refuse` (see
// ./fake-backend.ts).
import type { AuditEntry } from "../src/bindings/AuditEntry";
import type { AuditQuery } from "../src/bindings/AuditQuery";
import type { BulkResult } from "../src/bindings/BulkResult";
import type { ClientAction } from "../src/bindings/ClientAction";
import type { ClientInfo } from "../src/bindings/ClientInfo";
import type { CreateClientRequest } from "../src/bindings/CreateClientRequest";
import type { RevealedClient } from "../src/bindings/RevealedClient";
import type { CreateTokenRequest } from "../src/bindings/CreateTokenRequest";
import type { Dashboard } from "../src/bindings/Dashboard";
import type { Me } from "../src/bindings/Me";
import type { NewUserRequest } from "../src/bindings/NewUserRequest";
import type { OwnerRef } from "../src/bindings/OwnerRef";
import type { Policy } from "../src/bindings/Policy";
import type { Revealed } from "../src/bindings/Revealed";
import type { Role } from "../src/bindings/Role";
import type { ScopeDetail } from "../src/bindings/ScopeDetail";
import type { StatusAction } from "../src/bindings/StatusAction";
import type { TokenInfo } from "../src/bindings/TokenInfo";
import type { TokenPage } from "../src/bindings/TokenPage";
import type { TokenQuery } from "../src/bindings/TokenQuery";
import type { UsageEntry } from "../src/bindings/UsageEntry";
import type { UsageReport } from "../src/bindings/UsageReport";
import type { UserView } from "../src/bindings/UserView";
import { BIG_TOTAL, type Scenario } from "./scenario";
import { REAL_AUDIT_ACTIONS, REAL_RULES, REAL_SCOPES, grantable, realError, realHint, statusChange } from "./real";

export const UNHANDLED = Symbol("unhandled");
type Args = Record<string, unknown>;

export type AdminContext = {
  scenario: Scenario;
  me: () => Me;
  policy: Policy;
  myTokens: TokenInfo[];
  token: (partial: Partial<TokenInfo> & Pick<TokenInfo, "id" | "name">) => TokenInfo;
  uses: UsageEntry[];
  baseUrl: string;
  newSecret: (kind: "p" | "u" | "c" | "s") => string;
};

const DAY = 86_400_000;
const iso = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString().replace(/\.\d{3}Z$/, "Z");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const ROLE_SCOPES: Record<Role, string[]> = {
  user: grantable("user").map((s) => s.name),
  vrm_admin: grantable("vrm_admin").map((s) => s.name),
  admin: grantable("admin").map((s) => s.name),
};

/** An audit action name the real backend writes (fails loudly if it does not). */
const realAction = (name: string): string => {
  if (!REAL_AUDIT_ACTIONS.includes(name)) throw new Error(`the real backend never writes the audit action ${name}`);
  return name;
};

export function createAdminFake(ctx: AdminContext) {
  // The real catalogue (built-in scopes and one custom scope, billing:read).
  const scopes: ScopeDetail[] = REAL_SCOPES.map((x) => ({ ...x, roles: [...x.roles] }));
  // One OAuth client a reporting service uses (its secret hint has the real shape).
  const clients: ClientInfo[] = [
    {
      id: 1, client_id: "tsc_4fJ8sK2pQ9wXz1Lm0aBc", name: "nightly-reports", description: "Reporting service (owner: data-team@acme.example)",
      scopes: ["tokens:read"], allowed_networks: ["10.0.0.0/8"], rate_limit: 600, token_ttl_seconds: 3600, expires_at: null, status: "active",
      created_by: "grace@acme.example", created_at: iso(-30 * DAY), secrets: [{ id: 1, hint: "tsr_s_…Q2x8", created_at: iso(-30 * DAY), last_used_at: iso(-3_600_000) }],
      tokens_issued_24h: 24, uses: 1_310, last_used_at: iso(-600_000),
    },
  ];

  const openedAt = Date.now();
  let externalAdded = false;
  let version = 1;
  const users: UserView[] = [
    { id: 1, email: "ada@acme.example", name: "Ada Lovelace", role: "admin", active: true, source_group: "engineering", created_at: iso(-400 * DAY), deactivated_at: null, live_tokens: 4 },
    { id: 2, email: "grace@acme.example", name: "Grace Hopper", role: "vrm_admin", active: true, source_group: "vendor-risk", created_at: iso(-300 * DAY), deactivated_at: null, live_tokens: 2 },
    { id: 3, email: "alan@acme.example", name: "Alan Turing", role: "user", active: true, source_group: "research", created_at: iso(-120 * DAY), deactivated_at: null, live_tokens: 3 },
    { id: 4, email: "linus@acme.example", name: "Linus Torvalds", role: "user", active: false, source_group: "", created_at: iso(-200 * DAY), deactivated_at: iso(-14 * DAY), live_tokens: 0 },
    { id: 5, email: "margaret@acme.example", name: "Margaret Hamilton", role: "admin", active: true, source_group: "security", created_at: iso(-250 * DAY), deactivated_at: null, live_tokens: 1 },
  ];
  const tokenScopesOf: Record<string, string[]> = {
    "grace@acme.example": ["tokens:verify", "tokens:read", "billing:read"],
    "alan@acme.example": ["me:read", "tokens:verify"],
    "margaret@acme.example": ["audit:read", "users:read", "tokens:read"],
  };

  const ownerRef = (u: UserView): OwnerRef => ({ id: u.id, email: u.email, name: u.name });
  const other = (id: number, owner: UserView, partial: Partial<TokenInfo>) =>
    ctx.token({ id, name: `token ${id}`, owner: ownerRef(owner), created_by: owner.email, hint: `tsr_p_…${1000 + id}`, ...partial });
  const [, grace, alan, linus, margaret] = users;

  const company: TokenInfo[] = [
    ctx.token({
      id: 201, kind: "company", name: "Billing sync", description: "Nightly invoice export to the ERP (owner: finance-it@acme.example)",
      hint: "tsr_c_…7Q2x", owner: null, created_by: "grace@acme.example", scopes: ["tokens:verify", "billing:read"],
      last_used_at: iso(-2 * 3_600_000), last_used_ip: "10.1.2.3", last_used_agent: "erp-sync/3.1", use_count: 48_211, refused_count: 12, expires_at: iso(5 * DAY), alert_new_sources: true,
    }),
    ctx.token({
      id: 202, kind: "company", name: "Vendor portal", description: "Supplier risk questionnaire portal", hint: "tsr_c_…m9Ka", owner: null,
      created_by: "linus@acme.example", scopes: ["tokens:verify"], created_at: iso(-80 * DAY), expires_at: iso(100 * DAY), last_used_at: iso(-40 * DAY), use_count: 310,
    }),
    ctx.token({
      id: 203, kind: "company", name: "Legacy webhook", description: "Old webhook that sends ?api_token= in the URL", hint: "tsr_c_…p0Lw", owner: null,
      created_by: "ada@acme.example", scopes: ["tokens:verify"], last_used_at: iso(-6 * 3_600_000), last_used_ip: "203.0.113.9", last_used_agent: "Go-http-client/1.1", use_count: 902, refused_count: 40,
    }),
  ];
  const presentedInQuery = new Set([203]);

  const others: TokenInfo[] = [
    other(301, grace, { name: "Risk scanner", scopes: tokenScopesOf[grace.email], last_used_at: iso(-DAY), use_count: 77 }),
    other(302, alan, { name: "Notebook", scopes: tokenScopesOf[alan.email], expires_at: iso(3 * DAY) }),
    other(303, alan, { name: "Cluster job", scopes: ["tokens:verify"], last_used_at: iso(-45 * DAY), use_count: 5, idle_days: 60 }),
    other(304, alan, { kind: "user", name: "User API token", hint: "tsr_u_…aa01", scopes: ["me:read"], expires_at: null }),
    other(305, linus, { name: "Kernel CI", status: "revoked", status_changed_at: iso(-14 * DAY), last_used_at: iso(-15 * DAY), use_count: 1200 }),
    other(306, alan, { name: "Expired by idle", status: "expired", expires_at: iso(200 * DAY), idle_days: 30, idle_expires_at: iso(-3 * DAY), last_used_at: iso(-33 * DAY) }),
    other(307, margaret, { name: "Access review", scopes: tokenScopesOf[margaret.email], last_used_at: iso(-2 * DAY), use_count: 12 }),
  ];

  const small = () => [...ctx.myTokens, ...company, ...others];
  // The big set: generated on demand, only status changes are stored.
  const bigChanges = new Map<number, Partial<TokenInfo>>();
  const bigToken = (id: number): TokenInfo => {
    const owner = users[id % 3];
    const kinds = ["personal", "company", "personal", "user"] as const;
    const kind = kinds[id % 4];
    const statuses = ["active", "active", "active", "deactivated", "active", "expired", "active", "revoked"] as const;
    const status = statuses[id % 8];
    return ctx.token({
      id,
      kind,
      name: `${kind === "company" ? "Service" : "Script"} ${String(id).padStart(6, "0")}`,
      hint: `tsr_${kind[0]}_…${String(id % 10_000).padStart(4, "0")}`,
      owner: kind === "company" ? null : ownerRef(owner),
      created_by: owner.email,
      scopes: id % 3 === 0 ? ["tokens:verify"] : ["me:read", "tokens:read"],
      status,
      created_at: iso(-((id % 365) + 1) * DAY),
      expires_at: status === "expired" ? iso(-(id % 20 + 1) * DAY) : id % 5 === 0 ? null : iso(((id % 90) + 1) * DAY),
      status_changed_at: status === "revoked" || status === "deactivated" ? iso(-(id % 30 + 1) * DAY) : null,
      last_used_at: id % 6 === 0 ? null : iso(-(id % 50) * 3_600_000),
      use_count: (id * 7919) % 5000,
      refused_count: id % 13 === 0 ? id % 7 : 0,
      ...bigChanges.get(id),
    });
  };
  const big = ctx.scenario.allTokens === "100k";

  function findAny(id: number): TokenInfo | undefined {
    if (big && id >= 1 && id <= BIG_TOTAL) return bigToken(id);
    return small().find((t) => t.id === id);
  }

  function requireRole(...roles: Role[]) {
    const me = ctx.me();
    if (!roles.includes(me.role)) throw realError("forbiddenForUser");
    return me;
  }

  const sortValue = (t: TokenInfo, key: TokenQuery["sort"]): string | number => {
    switch (key) {
      case "id": return t.id;
      case "name": return t.name.toLowerCase();
      case "kind": return t.kind;
      case "owner": return t.owner?.email ?? "";
      case "status": return t.status;
      case "created": return t.created_at;
      case "expires": return t.expires_at ?? "9999";
      case "lastUsed": return t.last_used_at ?? "";
      case "uses": return t.use_count;
    }
  };

  function listAll(q: TokenQuery): TokenPage {
    const me = requireRole("admin", "vrm_admin");
    if (q.limit < 1 || q.limit > 1000) throw new Error(`the UI asked list_all_tokens for ${q.limit} rows; the real command takes 1 to 1000`);
    if (big) {
      // Sorted by id either way; a text filter narrows to nothing, to exercise the empty state.
      const total = q.text ? 0 : BIG_TOTAL;
      const items: TokenInfo[] = [];
      for (let i = q.offset; i < Math.min(total, q.offset + q.limit); i++) items.push(bigToken(q.descending ? BIG_TOTAL - i : i + 1));
      return { items, total };
    }
    const now = Date.now();
    const days = (n: number) => n * DAY;
    let rows = small().filter((t) => me.role === "admin" || t.kind === "company" || t.owner?.email === me.email);
    rows = rows.filter(
      (t) =>
        (!q.owner || (t.owner?.email ?? "").includes(q.owner.toLowerCase())) &&
        (!q.kind || t.kind === q.kind) &&
        (!q.status || t.status === q.status) &&
        (!q.scope || t.scopes.includes(q.scope)) &&
        (!q.text || `${t.name} ${t.description} ${t.hint} ${t.owner?.email ?? ""}`.toLowerCase().includes(q.text.toLowerCase())) &&
        (q.expiringWithinDays === null || (t.expires_at !== null && new Date(t.expires_at).getTime() > now && new Date(t.expires_at).getTime() <= now + days(q.expiringWithinDays))) &&
        (q.unusedForDays === null || (t.last_used_at !== null && new Date(t.last_used_at).getTime() < now - days(q.unusedForDays))) &&
        (!q.neverUsed || t.last_used_at === null) &&
        (!q.presentedInQuery || presentedInQuery.has(t.id)),
    );
    rows.sort((a, b) => {
      const x = sortValue(a, q.sort);
      const y = sortValue(b, q.sort);
      const c = x < y ? -1 : x > y ? 1 : a.id - b.id;
      return q.descending ? -c : c;
    });
    return { items: rows.slice(q.offset, q.offset + q.limit), total: rows.length };
  }

  function bulk(ids: number[], action: StatusAction): BulkResult {
    requireRole("admin", "vrm_admin");
    const r: BulkResult = { done: [], failed: [] };
    for (const id of ids) {
      const t = findAny(id);
      if (!t) {
        r.failed.push({ id, message: realError("unknownToken", id).message });
        continue;
      }
      const next = statusChange(id, t.status, action);
      if ("type" in next) {
        r.failed.push({ id, message: next.message });
        continue;
      }
      const change = { status: next.status, status_changed_at: iso(0) };
      if (big && id <= BIG_TOTAL) bigChanges.set(id, change);
      else Object.assign(t, change);
      r.done.push(id);
    }
    return r;
  }

  function usage(id: number, daysBack: number): UsageReport {
    const t = findAny(id);
    if (!t) throw realError("unknownToken", id);
    const series = Array.from({ length: daysBack }, (_, i) => {
      const d = new Date(Date.now() - (daysBack - 1 - i) * DAY);
      const seed = (id * 31 + d.getUTCDate() * 17 + d.getUTCMonth() * 7) % 97;
      const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6;
      return {
        day: d.toISOString().slice(0, 10),
        accepted: t.use_count === 0 ? 0 : weekend ? seed % 9 : 20 + (seed % 40),
        refused: t.use_count === 0 ? 0 : seed % 11 === 0 ? 4 + (seed % 6) : seed % 5 === 0 ? 1 : 0,
      };
    });
    const recent: UsageEntry[] =
      t.use_count === 0
        ? []
        : presentedInQuery.has(id)
          ? [{ id: 238, at: iso(-6 * 3_600_000), ip: "203.0.113.9", user_agent: "Go-http-client/1.1", method: "GET", path: "/v1/verify", status: 200, outcome: "accepted", via: "query", uses: 1 }, ...ctx.uses]
          : [...ctx.uses, { id: 236, at: iso(-30 * 3_600_000), ip: "10.20.30.40", user_agent: "curl/8.5.0", method: "GET", path: "/v1/tokens", status: 429, outcome: "refused: rate limit exceeded", via: "bearer", uses: 1 }];
    return {
      token: t,
      series,
      recent,
      clients:
        t.use_count === 0
          ? []
          : [
              { ip: "10.20.30.40", user_agent: "curl/8.5.0", first_seen: iso(-60 * DAY), last_seen: iso(-3 * 3_600_000), uses: 1200 },
              { ip: "10.20.30.41", user_agent: "python-requests/2.32", first_seen: iso(-20 * DAY), last_seen: iso(-5 * 3_600_000), uses: 81 },
              { ip: "192.0.2.7", user_agent: "curl/8.5.0", first_seen: iso(-26 * 3_600_000), last_seen: iso(-26 * 3_600_000), uses: 1 },
            ],
      sources:
        t.use_count === 0
          ? []
          : [
              { kind: "network", source: "10.20.30.0/24", first_seen: iso(-60 * DAY) },
              { kind: "client", source: "curl", first_seen: iso(-60 * DAY) },
              { kind: "client", source: "python-requests", first_seen: iso(-20 * DAY) },
              { kind: "network", source: "192.0.2.0/24", first_seen: iso(-26 * 3_600_000) },
            ],
    };
  }

  // Audit: 450 entries generated on demand, newest (id 450) first.
  const AUDIT_TOTAL = 450;
  const actions = ["user.sign_in", "token.create", "token.revoke", "user.role_change", "policy.change", "token.deactivate"].map(realAction);
  const auditEntry = (id: number): AuditEntry => {
    const action = actions[id % actions.length];
    const actor = users[id % 3].email;
    return {
      id,
      at: iso(-(AUDIT_TOTAL - id) * 3_600_000 * 3),
      actor,
      action,
      target: action.startsWith("token") ? `token:${100 + (id % 40)}` : action === "user.role_change" ? "user:alan@acme.example" : action === "policy.change" ? "policy" : `user:${actor}`,
      details:
        action === "user.role_change"
          ? { from: "user", to: "vrm_admin", scopes_lost: [] }
          : action === "token.create"
            ? { name: `Script ${id}`, scopes: ["tokens:verify"] }
            : {},
    };
  };
  // The real filters compare whole values (recorded: REAL_RULES.auditFiltersMatchExactly).
  const matches = (value: string, wanted: string | null) =>
    !wanted || (REAL_RULES.auditFiltersMatchExactly ? value === wanted : value.includes(wanted));
  const audit = (q: AuditQuery): AuditEntry[] => {
    requireRole("admin");
    const out: AuditEntry[] = [];
    for (let id = Math.min(AUDIT_TOTAL, (q.beforeId ?? AUDIT_TOTAL + 1) - 1); id >= 1 && out.length < q.limit; id--) {
      const e = auditEntry(id);
      if (!matches(e.actor, q.actor) || !matches(e.action, q.action) || !matches(e.target, q.target)) continue;
      if (q.since && e.at < q.since) continue;
      if (q.until && e.at >= q.until) continue;
      out.push(e);
    }
    return out;
  };

  async function handle(cmd: string, args: Args): Promise<unknown> {
    switch (cmd) {
      case "list_users":
        requireRole("admin");
        return users;
      case "store_version": {
        ctx.me();
        // Another admin's change lands once its time has come; the window hears of it only as
        // a new version.
        const after = ctx.scenario.externalUserAfterMs;
        if (after !== undefined && !externalAdded && Date.now() - openedAt >= after) {
          externalAdded = true;
          users.push({ id: users.length + 1, email: "elsewhere@acme.example", name: "Made elsewhere", role: "user", active: true, source_group: "", created_at: iso(0), deactivated_at: null, live_tokens: 0 });
          version += 1;
        }
        return version;
      }
      case "create_user": {
        requireRole("admin");
        const req = args.req as NewUserRequest;
        const u: UserView = { id: users.length + 1, email: req.email, name: req.name, role: req.role, active: true, source_group: req.sourceGroup, created_at: iso(0), deactivated_at: null, live_tokens: 0 };
        users.push(u);
        return u;
      }
      case "preview_role_change":
      case "set_user_role": {
        requireRole("admin");
        const u = users.find((x) => x.email === args.email);
        if (!u) throw realError("unknownUser", { email: String(args.email) });
        const role = args.role as Role;
        const lost = (tokenScopesOf[u.email] ?? []).filter((s) => !ROLE_SCOPES[role].includes(s));
        if (cmd === "preview_role_change") return lost;
        u.role = role;
        return { user: u, scopesLost: lost };
      }
      case "preview_deactivate_user":
      case "deactivate_user": {
        requireRole("admin");
        const u = users.find((x) => x.email === args.email);
        if (!u) throw realError("unknownUser", { email: String(args.email) });
        if (cmd === "preview_deactivate_user") return u.live_tokens;
        const revoked = u.live_tokens;
        Object.assign(u, { active: false, deactivated_at: iso(0), live_tokens: 0 } satisfies Partial<UserView>);
        // Their tokens are revoked, each as the recorded status change answers for "revoke".
        for (const t of others.filter((x) => x.owner?.email === u.email)) {
          const next = statusChange(t.id, t.status, "revoke");
          if (!("type" in next)) Object.assign(t, { status: next.status, status_changed_at: iso(0) });
        }
        return { user: u, revoked };
      }
      case "reactivate_user": {
        requireRole("admin");
        const u = users.find((x) => x.email === args.email);
        if (!u) throw realError("unknownUser", { email: String(args.email) });
        Object.assign(u, { active: true, deactivated_at: null } satisfies Partial<UserView>);
        return u;
      }
      case "list_company_tokens":
        requireRole("admin", "vrm_admin");
        return company;
      case "list_clients":
        requireRole("admin", "vrm_admin");
        // Fresh objects, as the real IPC's JSON gives.
        return clients.map((c) => ({ ...c, secrets: [...c.secrets] }));
      case "create_client": {
        const me = requireRole("admin", "vrm_admin");
        const req = args.req as CreateClientRequest;
        const secret = ctx.newSecret("s");
        const c: ClientInfo = {
          id: 10 + clients.length, client_id: `tsc_${String(clients.length + 1).padStart(20, "7")}`, name: req.name, description: req.description,
          scopes: req.scopes, allowed_networks: req.networks, rate_limit: req.rateLimit ?? ctx.policy.default_rate_limit, token_ttl_seconds: req.tokenTtlSeconds,
          expires_at: null, status: "active", created_by: me.email, created_at: iso(0),
          secrets: [{ id: 100 + clients.length, hint: realHint(secret), created_at: iso(0), last_used_at: null }], tokens_issued_24h: 0, uses: 0, last_used_at: null,
        };
        clients.unshift(c);
        const r: RevealedClient = { client: c, secret, baseUrl: ctx.baseUrl };
        return r;
      }
      case "rotate_client_secret": {
        requireRole("admin", "vrm_admin");
        const c = clients.find((x) => x.id === args.id);
        if (!c) return UNHANDLED;
        const secret = ctx.newSecret("s");
        c.secrets = [{ id: 200 + c.secrets.length + c.id, hint: realHint(secret), created_at: iso(0), last_used_at: null }, ...c.secrets];
        const r: RevealedClient = { client: { ...c }, secret, baseUrl: ctx.baseUrl };
        return r;
      }
      case "retire_client_secret": {
        requireRole("admin", "vrm_admin");
        const c = clients.find((x) => x.id === args.id);
        if (!c) return UNHANDLED;
        c.secrets = c.secrets.filter((s) => s.id !== args.secretId);
        return { ...c };
      }
      case "set_client_status": {
        requireRole("admin", "vrm_admin");
        const c = clients.find((x) => x.id === args.id);
        if (!c) return UNHANDLED;
        c.status = (args.action as ClientAction) === "disable" ? "disabled" : "active";
        return { ...c };
      }
      case "delete_client": {
        requireRole("admin", "vrm_admin");
        const i = clients.findIndex((x) => x.id === args.id);
        if (i < 0) return UNHANDLED;
        clients.splice(i, 1);
        return null;
      }
      case "create_company_token": {
        const me = requireRole("admin", "vrm_admin");
        const req = args.req as CreateTokenRequest;
        const secret = ctx.newSecret("c");
        const t = ctx.token({
          id: 210 + company.length, kind: "company", name: req.name, description: req.description, scopes: req.scopes, owner: null,
          created_by: me.email, created_at: iso(0), hint: realHint(secret), expires_at: req.expiry.type === "days" ? iso(req.expiry.days * DAY) : req.expiry.type === "at" ? req.expiry.at : null,
        });
        company.unshift(t);
        const r: Revealed = { token: t, secret, baseUrl: ctx.baseUrl };
        return r;
      }
      case "list_all_tokens":
        await sleep(big ? 40 : 10);
        return listAll(args.query as TokenQuery);
      case "bulk_set_token_status":
        await sleep(ctx.scenario.bulkDelayMs ?? 20);
        return bulk(args.ids as number[], args.action as StatusAction);
      case "token_usage_report":
        ctx.me();
        return usage(args.id as number, args.days as number);
      case "get_dashboard": {
        requireRole("admin", "vrm_admin");
        const d: Dashboard = { expiring_7_days: 3, expiring_30_days: 11, never_used: 27, unused_30_days: 8, refused_24_hours: 52, presented_in_query: 1, active: 143, usage_dropped: 0, honeytoken_alerts: [], new_source_tokens: 1, new_sources: [
          { id: 901, at: "2026-01-01T10:00:00Z", token: 201, name: "Billing sync", hint: "tsr_c_…7Q2x", network: "203.0.113.0/24", client: null, ip: "203.0.113.9", user_agent: "curl/8.5.0" },
        ] };
        return d;
      }
      case "list_audit":
        return audit(args.query as AuditQuery);
      case "export_audit_csv":
        return audit({ ...(args.query as AuditQuery), beforeId: null, limit: 10_000 }).length;
      case "get_policy_settings":
        ctx.me();
        return { ...ctx.policy };
      case "update_policy": {
        requireRole("admin");
        Object.assign(ctx.policy, args.policy as Policy);
        return { ...ctx.policy };
      }
      case "list_scopes":
        ctx.me();
        return scopes;
      case "add_scope": {
        requireRole("admin");
        const name = args.name as string;
        // A new scope gets the roles the real add_scope gave billing:read.
        const custom = REAL_SCOPES.find((x) => !x.builtin);
        const s: ScopeDetail = { name, description: args.description as string, builtin: false, roles: [...(custom?.roles ?? [])] };
        scopes.push(s);
        return s;
      }
      case "export_ca_certificate":
        ctx.me();
        return null;
      case "get_token": {
        ctx.me();
        const t = findAny(args.id as number);
        if (!t) return UNHANDLED;
        return { token: t, recentUses: t.use_count > 0 ? ctx.uses : [] };
      }
      case "set_token_status": {
        ctx.me();
        const t = findAny(args.id as number);
        if (!t || ctx.myTokens.includes(t)) return UNHANDLED;
        const next = statusChange(t.id, t.status, args.action as StatusAction);
        if ("type" in next) throw next;
        bulk([t.id], args.action as StatusAction);
        return findAny(t.id);
      }
      default:
        return UNHANDLED;
    }
  }
  return { handle };
}
