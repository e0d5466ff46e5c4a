// The administration half of the in-page fake backend: users, company and all tokens (a small
// in-memory set, or 100,000 rows generated per page on demand), bulk status changes, usage
// reports, dashboard, audit log and settings. Fixture data; scopes, role rules, policy
// defaults, audit action names, filters and errors come from the real backend (./real.ts).
import type {
  AuditQuery,
  AuditView,
  BulkResult,
  CreateTokenRequest,
  DashboardView,
  Me,
  NewUserRequest,
  PolicySettings,
  PolicyView,
  Revealed,
  Role,
  ScopeDetail,
  StatusAction,
  TokenPage,
  TokenQuery,
  TokenView,
  UsageReport,
  UsageView,
  UserView,
} from "../src/lib/contract";
import { BIG_TOTAL, type Scenario } from "./scenario";
import { REAL_AUDIT_ACTIONS, REAL_POLICY, REAL_RULES, REAL_SCOPES, grantable, realError, realHint, statusChange } from "./real";

export const UNHANDLED = Symbol("unhandled");
type Args = Record<string, unknown>;

export type AdminContext = {
  scenario: Scenario;
  me: () => Me;
  policy: PolicyView;
  myTokens: TokenView[];
  token: (partial: Partial<TokenView> & Pick<TokenView, "id" | "name">) => TokenView;
  uses: UsageView[];
  baseUrl: string;
  newSecret: (kind: "p" | "u" | "c") => string;
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

  const users: UserView[] = [
    { id: 1, email: "ada@acme.example", name: "Ada Lovelace", role: "admin", active: true, sourceGroup: "engineering", createdAt: iso(-400 * DAY), deactivatedAt: null, liveTokens: 4 },
    { id: 2, email: "grace@acme.example", name: "Grace Hopper", role: "vrm_admin", active: true, sourceGroup: "vendor-risk", createdAt: iso(-300 * DAY), deactivatedAt: null, liveTokens: 2 },
    { id: 3, email: "alan@acme.example", name: "Alan Turing", role: "user", active: true, sourceGroup: "research", createdAt: iso(-120 * DAY), deactivatedAt: null, liveTokens: 3 },
    { id: 4, email: "linus@acme.example", name: "Linus Torvalds", role: "user", active: false, sourceGroup: "", createdAt: iso(-200 * DAY), deactivatedAt: iso(-14 * DAY), liveTokens: 0 },
    { id: 5, email: "margaret@acme.example", name: "Margaret Hamilton", role: "admin", active: true, sourceGroup: "security", createdAt: iso(-250 * DAY), deactivatedAt: null, liveTokens: 1 },
  ];
  const tokenScopesOf: Record<string, string[]> = {
    "grace@acme.example": ["tokens:verify", "tokens:read", "billing:read"],
    "alan@acme.example": ["me:read", "tokens:verify"],
    "margaret@acme.example": ["audit:read", "users:read", "tokens:read"],
  };

  const other = (id: number, owner: UserView, partial: Partial<TokenView>) =>
    ctx.token({ id, name: `token ${id}`, ownerEmail: owner.email, ownerName: owner.name, createdBy: owner.email, hint: `tsr_p_…${1000 + id}`, ...partial });
  const [, grace, alan, linus, margaret] = users;

  const company: TokenView[] = [
    ctx.token({
      id: 201, kind: "company", name: "Billing sync", description: "Nightly invoice export to the ERP (owner: finance-it@acme.example)",
      hint: "tsr_c_…7Q2x", ownerEmail: null, ownerName: null, createdBy: "grace@acme.example", scopes: ["tokens:verify", "billing:read"],
      lastUsedAt: iso(-2 * 3_600_000), lastUsedIp: "10.1.2.3", lastUsedAgent: "erp-sync/3.1", useCount: 48_211, refusedCount: 12, expiresAt: iso(5 * DAY),
    }),
    ctx.token({
      id: 202, kind: "company", name: "Vendor portal", description: "Supplier risk questionnaire portal", hint: "tsr_c_…m9Ka", ownerEmail: null, ownerName: null,
      createdBy: "linus@acme.example", scopes: ["tokens:verify"], createdAt: iso(-80 * DAY), expiresAt: iso(100 * DAY), lastUsedAt: iso(-40 * DAY), useCount: 310,
    }),
    ctx.token({
      id: 203, kind: "company", name: "Legacy webhook", description: "Old webhook that sends ?api_token= in the URL", hint: "tsr_c_…p0Lw", ownerEmail: null, ownerName: null,
      createdBy: "ada@acme.example", scopes: ["tokens:verify"], lastUsedAt: iso(-6 * 3_600_000), lastUsedIp: "203.0.113.9", lastUsedAgent: "Go-http-client/1.1", useCount: 902, refusedCount: 40,
    }),
  ];
  const presentedInQuery = new Set([203]);

  const others: TokenView[] = [
    other(301, grace, { name: "Risk scanner", scopes: tokenScopesOf[grace.email], lastUsedAt: iso(-DAY), useCount: 77 }),
    other(302, alan, { name: "Notebook", scopes: tokenScopesOf[alan.email], expiresAt: iso(3 * DAY) }),
    other(303, alan, { name: "Cluster job", scopes: ["tokens:verify"], lastUsedAt: iso(-45 * DAY), useCount: 5, idleDays: 60 }),
    other(304, alan, { kind: "user", name: "User API token", hint: "tsr_u_…aa01", scopes: ["me:read"], expiresAt: null }),
    other(305, linus, { name: "Kernel CI", status: "revoked", statusChangedAt: iso(-14 * DAY), lastUsedAt: iso(-15 * DAY), useCount: 1200 }),
    other(306, alan, { name: "Expired by idle", status: "expired", expiresAt: iso(200 * DAY), idleDays: 30, idleExpiresAt: iso(-3 * DAY), lastUsedAt: iso(-33 * DAY) }),
    other(307, margaret, { name: "Access review", scopes: tokenScopesOf[margaret.email], lastUsedAt: iso(-2 * DAY), useCount: 12 }),
  ];

  const small = () => [...ctx.myTokens, ...company, ...others];
  // The big set: generated on demand, only status changes are stored.
  const bigChanges = new Map<number, Partial<TokenView>>();
  const bigToken = (id: number): TokenView => {
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
      ownerEmail: kind === "company" ? null : owner.email,
      ownerName: kind === "company" ? null : owner.name,
      createdBy: owner.email,
      scopes: id % 3 === 0 ? ["tokens:verify"] : ["me:read", "tokens:read"],
      status,
      createdAt: iso(-((id % 365) + 1) * DAY),
      expiresAt: status === "expired" ? iso(-(id % 20 + 1) * DAY) : id % 5 === 0 ? null : iso(((id % 90) + 1) * DAY),
      statusChangedAt: status === "revoked" || status === "deactivated" ? iso(-(id % 30 + 1) * DAY) : null,
      lastUsedAt: id % 6 === 0 ? null : iso(-(id % 50) * 3_600_000),
      useCount: (id * 7919) % 5000,
      refusedCount: id % 13 === 0 ? id % 7 : 0,
      ...bigChanges.get(id),
    });
  };
  const big = ctx.scenario.allTokens === "100k";

  function findAny(id: number): TokenView | undefined {
    if (big && id >= 1 && id <= BIG_TOTAL) return bigToken(id);
    return small().find((t) => t.id === id);
  }

  function requireRole(...roles: Role[]) {
    const me = ctx.me();
    if (!roles.includes(me.role)) throw realError("forbiddenForUser");
    return me;
  }

  const sortValue = (t: TokenView, key: TokenQuery["sort"]): string | number => {
    switch (key) {
      case "id": return t.id;
      case "name": return t.name.toLowerCase();
      case "kind": return t.kind;
      case "owner": return t.ownerEmail ?? "";
      case "status": return t.status;
      case "created": return t.createdAt;
      case "expires": return t.expiresAt ?? "9999";
      case "lastUsed": return t.lastUsedAt ?? "";
      case "uses": return t.useCount;
    }
  };

  function listAll(q: TokenQuery): TokenPage {
    const me = requireRole("admin", "vrm_admin");
    if (q.limit < 1 || q.limit > 1000) throw new Error(`the UI asked list_all_tokens for ${q.limit} rows; the real command takes 1 to 1000`);
    if (big) {
      // Sorted by id either way; a text filter narrows to nothing, to exercise the empty state.
      const total = q.text ? 0 : BIG_TOTAL;
      const items: TokenView[] = [];
      for (let i = q.offset; i < Math.min(total, q.offset + q.limit); i++) items.push(bigToken(q.descending ? BIG_TOTAL - i : i + 1));
      return { items, total };
    }
    const now = Date.now();
    const days = (n: number) => n * DAY;
    let rows = small().filter((t) => me.role === "admin" || t.kind === "company" || t.ownerEmail === me.email);
    rows = rows.filter(
      (t) =>
        (!q.owner || (t.ownerEmail ?? "").includes(q.owner.toLowerCase())) &&
        (!q.kind || t.kind === q.kind) &&
        (!q.status || t.status === q.status) &&
        (!q.scope || t.scopes.includes(q.scope)) &&
        (!q.text || `${t.name} ${t.description} ${t.hint} ${t.ownerEmail ?? ""}`.toLowerCase().includes(q.text.toLowerCase())) &&
        (q.expiringWithinDays === null || (t.expiresAt !== null && new Date(t.expiresAt).getTime() > now && new Date(t.expiresAt).getTime() <= now + days(q.expiringWithinDays))) &&
        (q.unusedForDays === null || (t.lastUsedAt !== null && new Date(t.lastUsedAt).getTime() < now - days(q.unusedForDays))) &&
        (!q.neverUsed || t.lastUsedAt === null) &&
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
    if (ids.length > 1000) throw realError("bulkTooMany");
    const r: BulkResult = { done: [], failed: [] };
    for (const id of ids) {
      const t = findAny(id);
      if (!t) {
        r.failed.push({ id, message: realError("unknownToken", id).data });
        continue;
      }
      const next = statusChange(id, t.status, action);
      if ("type" in next) {
        r.failed.push({ id, message: next.data });
        continue;
      }
      const change = { status: next.status, statusChangedAt: iso(0) };
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
        accepted: t.useCount === 0 ? 0 : weekend ? seed % 9 : 20 + (seed % 40),
        refused: t.useCount === 0 ? 0 : seed % 11 === 0 ? 4 + (seed % 6) : seed % 5 === 0 ? 1 : 0,
      };
    });
    const recent: UsageView[] =
      t.useCount === 0
        ? []
        : presentedInQuery.has(id)
          ? [{ at: iso(-6 * 3_600_000), ip: "203.0.113.9", userAgent: "Go-http-client/1.1", method: "GET", path: "/v1/verify", status: 200, outcome: "accepted", via: "query", uses: 1 }, ...ctx.uses]
          : [...ctx.uses, { at: iso(-30 * 3_600_000), ip: "10.20.30.40", userAgent: "curl/8.5.0", method: "GET", path: "/v1/tokens", status: 429, outcome: "refused: rate limit exceeded", via: "bearer", uses: 1 }];
    return {
      token: t,
      series,
      recent,
      clients:
        t.useCount === 0
          ? []
          : [
              { ip: "10.20.30.40", userAgent: "curl/8.5.0", firstSeen: iso(-60 * DAY), lastSeen: iso(-3 * 3_600_000), uses: 1200 },
              { ip: "10.20.30.41", userAgent: "python-requests/2.32", firstSeen: iso(-20 * DAY), lastSeen: iso(-5 * 3_600_000), uses: 81 },
              { ip: "192.0.2.7", userAgent: "curl/8.5.0", firstSeen: iso(-26 * 3_600_000), lastSeen: iso(-26 * 3_600_000), uses: 1 },
            ],
    };
  }

  // Audit: 450 entries generated on demand, newest (id 450) first.
  const AUDIT_TOTAL = 450;
  const actions = ["user.sign_in", "token.create", "token.revoke", "user.role_change", "policy.change", "token.deactivate"].map(realAction);
  const auditEntry = (id: number): AuditView => {
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
          ? JSON.stringify({ from: "user", to: "vrm_admin", scopes_lost: [] })
          : action === "token.create"
            ? JSON.stringify({ name: `Script ${id}`, scopes: ["tokens:verify"] })
            : "{}",
    };
  };
  // The real filters compare whole values (recorded: REAL_RULES.auditFiltersMatchExactly).
  const matches = (value: string, wanted: string | null) =>
    !wanted || (REAL_RULES.auditFiltersMatchExactly ? value === wanted : value.includes(wanted));
  const audit = (q: AuditQuery): AuditView[] => {
    requireRole("admin");
    const out: AuditView[] = [];
    for (let id = Math.min(AUDIT_TOTAL, (q.beforeId ?? AUDIT_TOTAL + 1) - 1); id >= 1 && out.length < q.limit; id--) {
      const e = auditEntry(id);
      if (!matches(e.actor, q.actor) || !matches(e.action, q.action) || !matches(e.target, q.target)) continue;
      if (q.since && e.at < q.since) continue;
      if (q.until && e.at >= q.until) continue;
      out.push(e);
    }
    return out;
  };

  let settings: PolicySettings = { ...ctx.policy, maxPersonalTokens: REAL_POLICY.maxPersonalTokens, usageRetentionDays: REAL_POLICY.usageRetentionDays };

  async function handle(cmd: string, args: Args): Promise<unknown> {
    switch (cmd) {
      case "list_users":
        requireRole("admin");
        return users;
      case "create_user": {
        requireRole("admin");
        const req = args.req as NewUserRequest;
        if (users.some((u) => u.email === req.email)) throw realError("duplicateUser", { email: req.email });
        const u: UserView = { id: users.length + 1, ...req, active: true, createdAt: iso(0), deactivatedAt: null, liveTokens: 0 };
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
        if (cmd === "preview_deactivate_user") return u.liveTokens;
        const revoked = u.liveTokens;
        Object.assign(u, { active: false, deactivatedAt: iso(0), liveTokens: 0 });
        for (const t of others) if (t.ownerEmail === u.email && t.status !== "revoked") Object.assign(t, { status: "revoked", statusChangedAt: iso(0) });
        return { user: u, revoked };
      }
      case "reactivate_user": {
        requireRole("admin");
        const u = users.find((x) => x.email === args.email);
        if (!u) throw realError("unknownUser", { email: String(args.email) });
        Object.assign(u, { active: true, deactivatedAt: null });
        return u;
      }
      case "list_company_tokens":
        requireRole("admin", "vrm_admin");
        return company;
      case "create_company_token": {
        const me = requireRole("admin", "vrm_admin");
        const req = args.req as CreateTokenRequest;
        if (!req.description.trim()) throw realError("companyDescriptionRequired");
        const taken = company.some((t) => t.name === req.name && (t.status !== "revoked" || !REAL_RULES.tokenNamesUniqueAmongLiveTokensOnly));
        if (taken) throw realError("duplicateTokenName", { name: req.name });
        const secret = ctx.newSecret("c");
        const t = ctx.token({
          id: 210 + company.length, kind: "company", name: req.name, description: req.description, scopes: req.scopes, ownerEmail: null, ownerName: null,
          createdBy: me.email, createdAt: iso(0), hint: realHint(secret), expiresAt: req.expiry.type === "days" ? iso(req.expiry.days * DAY) : req.expiry.type === "at" ? req.expiry.at : null,
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
        const d: DashboardView = { expiringIn7Days: 3, expiringIn30Days: 11, neverUsed: 27, unusedFor30Days: 8, refusedLast24Hours: 52, presentedInQuery: 1, active: 143, usageDropped: 0 };
        return d;
      }
      case "list_audit":
        return audit(args.query as AuditQuery);
      case "export_audit_csv":
        return audit({ ...(args.query as AuditQuery), beforeId: null, limit: 10_000 }).length;
      case "get_policy_settings":
        ctx.me();
        return settings;
      case "update_policy": {
        requireRole("admin");
        const p = args.policy as PolicySettings;
        if (p.defaultRateLimit > p.maxRateLimit) throw realError("policyDefaultAboveMax", { value: p.defaultRateLimit, max: p.maxRateLimit });
        settings = p;
        Object.assign(ctx.policy, p);
        return settings;
      }
      case "list_scopes":
        ctx.me();
        return scopes;
      case "add_scope": {
        requireRole("admin");
        const name = args.name as string;
        if (scopes.some((s) => s.name === name)) throw realError("duplicateScope", { name });
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
        return { token: t, recentUses: t.useCount > 0 ? ctx.uses : [] };
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
