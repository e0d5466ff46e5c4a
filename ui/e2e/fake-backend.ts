// An in-memory fake of the Rust commands for Playwright runs of the built UI: fixture data,
// with every rule answer, error, scope, policy default and secret shape taken from the real
// backend's recorded answers (./real.ts, ./contract.json), and only the real command names
// answered. Bundled by esbuild into an init script; it reads its scenario from
// `window.__TESSERA_SCENARIO__` and records every call in `window.__IPC_CALLS__`.
import { mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import type {
  AppStatus,
  CreateTokenRequest,
  IpcError,
  Me,
  PolicyView,
  Revealed,
  StatusAction,
  TokenView,
  UsageView,
} from "../src/lib/contract";
import { REAL_COMMANDS, REAL_POLICY, REAL_RULES, grantable, realError, realHint, realSecret, statusChange } from "./real";

import { PASSWORD, XSS_NAME, type Scenario } from "./scenario";
import { UNHANDLED, createAdminFake } from "./fake-admin";

type Calls = { cmd: string; args: unknown }[];
declare global {
  interface Window {
    __TESSERA_SCENARIO__?: Scenario;
    __IPC_CALLS__: Calls;
    __CSP_VIOLATIONS__: string[];
  }
}

const DAY = 86_400_000;
const iso = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString().replace(/\.\d{3}Z$/, "Z");
const fail = (type: IpcError["type"], data: string): IpcError => ({ type, data });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const scenario: Scenario = window.__TESSERA_SCENARIO__ ?? {
  initialised: true,
  signedIn: true,
  tokens: "full",
  userToken: true,
  lockAfterMinutes: 15,
  clipboardSeconds: 30,
};
window.__IPC_CALLS__ = [];
window.__CSP_VIOLATIONS__ = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__CSP_VIOLATIONS__.push(`${e.violatedDirective} ${e.blockedURI}`);
});

// The real defaults; a scenario may change some, as an admin could in Settings.
const policy: PolicyView = {
  maxLifetimeDays: REAL_POLICY.maxLifetimeDays,
  expiryRequired: REAL_POLICY.expiryRequired,
  defaultLifetimeDays: REAL_POLICY.defaultLifetimeDays,
  defaultIdleDays: REAL_POLICY.defaultIdleDays,
  maxRateLimit: REAL_POLICY.maxRateLimit,
  defaultRateLimit: REAL_POLICY.defaultRateLimit,
  queryParamTokens: REAL_POLICY.queryParamTokens,
  clipboardSeconds: scenario.clipboardSeconds,
  ...scenario.policy,
};

let company: string | null = scenario.initialised ? "Acme Widgets GmbH" : null;
let me: Me | null = scenario.initialised
  ? { id: 1, email: "ada@acme.example", name: "Ada Lovelace", role: scenario.role ?? "admin", sourceGroup: "engineering", company: company ?? "" }
  : null;
let signedIn = scenario.initialised && scenario.signedIn;
let nextId = 100;
let secretCounter = 0;

function token(partial: Partial<TokenView> & Pick<TokenView, "id" | "name">): TokenView {
  return {
    kind: "personal",
    description: "",
    hint: `tsr_p_…${String(partial.id).padStart(4, "0").slice(-4)}`,
    ownerEmail: me?.email ?? null,
    ownerName: me?.name ?? null,
    createdBy: me?.email ?? "ada@acme.example",
    scopes: ["me:read"],
    status: "active",
    createdAt: iso(-10 * DAY),
    expiresAt: iso(20 * DAY),
    idleDays: 30,
    idleExpiresAt: iso(27 * DAY),
    allowedNetworks: [],
    rateLimit: 300,
    statusChangedAt: null,
    lastUsedAt: null,
    lastUsedIp: null,
    lastUsedAgent: null,
    useCount: 0,
    refusedCount: 0,
    ...partial,
  };
}

const tokens: TokenView[] =
  scenario.tokens === "full"
    ? [
        token({
          id: 1,
          name: "CI deploy",
          description: "GitHub Actions deploy job for the billing service",
          scopes: ["me:read", "tokens:read", "tokens:verify"],
          lastUsedAt: iso(-3 * 3_600_000),
          lastUsedIp: "10.20.30.40",
          lastUsedAgent: "curl/8.5.0",
          useCount: 1284,
          refusedCount: 3,
          allowedNetworks: ["10.0.0.0/8", "2001:db8::/32"],
        }),
        token({ id: 2, name: XSS_NAME, description: "<script>alert(2)</script>", createdAt: iso(-40 * DAY), expiresAt: null, idleDays: null, idleExpiresAt: null }),
        token({ id: 3, name: "Postman", status: "deactivated", statusChangedAt: iso(-DAY), lastUsedAt: iso(-5 * DAY), lastUsedIp: "127.0.0.1", lastUsedAgent: "PostmanRuntime/7.39.0", useCount: 17 }),
        token({ id: 4, name: "Old laptop script", status: "revoked", createdAt: iso(-200 * DAY), expiresAt: iso(-100 * DAY), statusChangedAt: iso(-120 * DAY) }),
        token({ id: 5, name: "Quarterly report", status: "expired", createdAt: iso(-95 * DAY), expiresAt: iso(-5 * DAY), useCount: 4, lastUsedAt: iso(-30 * DAY) }),
      ]
    : [];

let userToken: TokenView | null = scenario.userToken
  ? token({ id: 50, kind: "user", name: "User API token", hint: "tsr_u_…9f3a", lastUsedAt: iso(-2 * DAY), createdAt: iso(-60 * DAY), expiresAt: null })
  : null;

const uses: UsageView[] = [
  { at: iso(-3 * 3_600_000), ip: "10.20.30.40", userAgent: "curl/8.5.0", method: "GET", path: "/v1/me", status: 200, outcome: "accepted", via: "bearer", uses: 240 },
  { at: iso(-5 * 3_600_000), ip: "10.20.30.41", userAgent: "python-requests/2.32", method: "GET", path: "/v1/tokens", status: 200, outcome: "accepted", via: "bearer", uses: 1 },
  { at: iso(-26 * 3_600_000), ip: "192.0.2.7", userAgent: "curl/8.5.0", method: "GET", path: "/v1/me", status: 403, outcome: "refused: network not allowed", via: "x-api-key", uses: 1 },
];

function newSecret(kind: "p" | "u" | "c"): string {
  secretCounter += 1;
  return realSecret(kind, secretCounter);
}

function status(): AppStatus {
  return {
    initialised: company !== null,
    company,
    me: signedIn ? me : null,
    api: {
      listen: "127.0.0.1:8443",
      running: scenario.apiRunning ?? true,
      error: scenario.apiRunning === false ? "Port 8443 is in use by another program. Change it in Settings." : null,
      fingerprint: "SHA256:3F:9A:12:7C:E4:88:01:BD:5A:6E:93:C0:2F:71:D8:44:B6:0E:19:A2:7F:C3:55:6D:81:E0:4B:9C:22:F7:13:AA",
      baseUrl: "https://127.0.0.1:8443",
    },
    keyWarning: null,
    auditProblem: scenario.auditProblem ?? null,
    lockAfterMinutes: scenario.lockAfterMinutes,
  };
}

function requireMe(): Me {
  if (!signedIn || !me) throw realError("signedOut");
  return me;
}

function find(id: number): TokenView {
  const t = tokens.find((x) => x.id === id);
  if (!t) throw realError("unknownToken", id);
  return t;
}

type Args = Record<string, unknown>;

const admin = createAdminFake({
  scenario,
  me: requireMe,
  policy,
  myTokens: tokens,
  token,
  uses,
  baseUrl: "https://127.0.0.1:8443",
  newSecret,
});

async function handle(cmd: string, args: Args): Promise<unknown> {
  if (scenario.unauthenticatedOn === cmd) {
    signedIn = false;
    throw realError("signedOut");
  }
  const answer = await admin.handle(cmd, args);
  if (answer !== UNHANDLED) return answer;
  switch (cmd) {
    case "app_status":
      return status();
    case "setup_company": {
      const req = args.req as { company: string; name: string; email: string; password: string };
      if (company) throw realError("alreadySetUp");
      company = req.company;
      me = { id: 1, email: req.email, name: req.name, role: "admin", sourceGroup: "", company: req.company };
      signedIn = true;
      return me;
    }
    case "sign_in": {
      const req = args.req as { email: string; password: string };
      await sleep(300);
      if (req.password !== PASSWORD) throw realError("wrongPassword");
      signedIn = true;
      return requireMe();
    }
    case "sign_out":
      signedIn = false;
      return null;
    case "get_profile":
      return requireMe();
    case "update_profile": {
      const req = args.req as { name: string; sourceGroup: string };
      me = { ...requireMe(), name: req.name, sourceGroup: req.sourceGroup };
      return me;
    }
    case "change_password": {
      requireMe();
      const req = args.req as { current: string; next: string };
      if (req.current !== PASSWORD) throw realError("wrongCurrentPassword");
      return null;
    }
    case "get_user_token":
      requireMe();
      return userToken;
    case "regenerate_user_token": {
      requireMe();
      const secret = newSecret("u");
      userToken = token({ id: 51 + secretCounter, kind: "user", name: "User API token", hint: realHint(secret), createdAt: iso(0), expiresAt: null });
      const r: Revealed = { token: userToken, secret, baseUrl: status().api.baseUrl };
      return r;
    }
    case "list_my_tokens":
      requireMe();
      return tokens;
    case "get_token": {
      requireMe();
      const t = find(args.id as number);
      return { token: t, recentUses: t.useCount > 0 ? uses : [] };
    }
    case "create_personal_token": {
      requireMe();
      const req = args.req as CreateTokenRequest;
      const taken = tokens.some((t) => t.name === req.name && (t.status !== "revoked" || !REAL_RULES.tokenNamesUniqueAmongLiveTokensOnly));
      if (taken) throw realError("duplicateTokenName", { name: req.name });
      if (req.rateLimit !== null && req.rateLimit > policy.maxRateLimit) throw realError("rateLimitTooHigh", { value: req.rateLimit, max: policy.maxRateLimit });
      const secret = newSecret("p");
      const expiresAt =
        req.expiry.type === "days" ? iso(req.expiry.days * DAY) : req.expiry.type === "at" ? req.expiry.at : null;
      const t = token({
        id: nextId++,
        name: req.name,
        description: req.description,
        scopes: req.scopes,
        createdAt: iso(0),
        expiresAt,
        idleDays: req.idleDays,
        idleExpiresAt: req.idleDays ? iso(req.idleDays * DAY) : null,
        allowedNetworks: req.networks,
        rateLimit: req.rateLimit ?? policy.defaultRateLimit,
        hint: realHint(secret),
      });
      tokens.unshift(t);
      const r: Revealed = { token: t, secret, baseUrl: status().api.baseUrl };
      return r;
    }
    case "set_token_status": {
      requireMe();
      const t = find(args.id as number);
      const next = statusChange(t.id, t.status, args.action as StatusAction);
      if ("type" in next) throw next;
      t.status = next.status;
      t.statusChangedAt = iso(0);
      return t;
    }
    case "delete_token": {
      requireMe();
      const i = tokens.findIndex((t) => t.id === (args.id as number));
      if (i < 0) throw realError("unknownToken", args.id as number);
      tokens.splice(i, 1);
      return null;
    }
    case "list_grantable_scopes":
      return grantable(requireMe().role);
    case "get_policy":
      requireMe();
      return policy;
    case "copy_secret":
      requireMe();
      return { clearsInSeconds: policy.clipboardSeconds };
    case "clear_clipboard":
      return null;
    case "save_postman_environment":
      requireMe();
      return null;
    case "plugin:dialog|save":
      return `/home/ada/${(args.options as { defaultPath?: string } | undefined)?.defaultPath ?? "env.json"}`;
    default:
      throw fail("Internal", `Unknown command ${cmd}`);
  }
}

mockWindows("main");
mockIPC(async (cmd, payload) => {
  const args = (payload ?? {}) as Args;
  window.__IPC_CALLS__.push({ cmd, args });
  // Only what the real app registers (its generate_handler! list) and the dialog plugin.
  if (!REAL_COMMANDS.includes(cmd) && !cmd.startsWith("plugin:dialog|")) throw fail("Internal", `the real app has no command ${cmd}`);
  return handle(cmd, args);
});
