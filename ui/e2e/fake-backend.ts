// An in-memory fake of the Rust commands for Playwright runs of the built UI: fixture data,
// with every status change, error, scope, policy default and secret shape taken from the real
// backend's recorded answers (./real.ts, ./contract.json), and only the real command names
// answered. Bundled by esbuild into an init script; it reads its scenario from
// `window.__TESSERA_SCENARIO__` and records every call in `window.__IPC_CALLS__`.
//
// The rule for both fakes (this file and ./fake-admin.ts): fakes store and replay; they never
// decide a refusal. They store what the UI creates and look it up (an id or e-mail they do
// not hold answers the real "unknown" error), check the session and, for admin-only
// commands, the role (contract.json's `forbiddenForUser`), and look status changes up in the
// recorded `statusTransitions`. Every other refusal (a duplicate name, a missing
// description, a value out of range, a wrong password, ...) is a core rule the fakes do not
// copy: a test asks for it in `scenario.refuse`, and `replayRefusal` throws the recorded
// real error.
import { mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import type { AppStatus } from "../src/bindings/AppStatus";
import type { Connection } from "../src/bindings/Connection";
import type { CreateTokenRequest } from "../src/bindings/CreateTokenRequest";
import type { IpcError } from "../src/bindings/IpcError";
import type { Me } from "../src/bindings/Me";
import type { Policy } from "../src/bindings/Policy";
import type { Revealed } from "../src/bindings/Revealed";
import type { StatusAction } from "../src/bindings/StatusAction";
import type { TokenInfo } from "../src/bindings/TokenInfo";
import type { UsageEntry } from "../src/bindings/UsageEntry";
import { REAL_COMMANDS, REAL_POLICY, grantable, realError, realHint, realSecret, statusChange } from "./real";

import { XSS_NAME, type Scenario } from "./scenario";
import { UNHANDLED, createAdminFake } from "./fake-admin";
import { aToken } from "./fixtures";

type Calls = { cmd: string; args: unknown }[];
declare global {
  interface Window {
    __TESSERA_SCENARIO__?: Scenario;
    __IPC_CALLS__: Calls;
    __CSP_VIOLATIONS__: string[];
    /** The test takes the fake team server away (false) or brings it back (true). */
    __SET_TEAM_REACHABLE__: (reachable: boolean) => void;
  }
}

const DAY = 86_400_000;
const iso = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString().replace(/\.\d{3}Z$/, "Z");
const fail = (type: IpcError["type"], message: string): IpcError => ({ type, field: null, message });
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
const policy: Policy = {
  ...REAL_POLICY,
  clipboard_seconds: scenario.clipboardSeconds,
  ...scenario.policy,
};

let company: string | null = scenario.initialised ? "Acme Widgets GmbH" : null;
let me: Me | null = scenario.initialised
  ? { id: 1, email: "ada@acme.example", name: "Ada Lovelace", role: scenario.role ?? "admin", sourceGroup: "engineering", company: company ?? "" }
  : null;
let signedIn = scenario.initialised && scenario.signedIn;
let nextId = 100;
let secretCounter = 0;

function token(partial: Partial<TokenInfo> & Pick<TokenInfo, "id" | "name">): TokenInfo {
  return aToken({
    owner: me ? { id: me.id, email: me.email, name: me.name } : null,
    created_by: me?.email ?? "ada@acme.example",
    created_at: iso(-10 * DAY),
    expires_at: iso(20 * DAY),
    idle_days: 30,
    idle_expires_at: iso(27 * DAY),
    ...partial,
  });
}

const tokens: TokenInfo[] =
  scenario.tokens === "full"
    ? [
        token({
          id: 1,
          name: "CI deploy",
          description: "GitHub Actions deploy job for the billing service",
          scopes: ["me:read", "tokens:read", "tokens:verify"],
          last_used_at: iso(-3 * 3_600_000),
          last_used_ip: "10.20.30.40",
          last_used_agent: "curl/8.5.0",
          use_count: 1284,
          refused_count: 3,
          allowed_networks: ["10.0.0.0/8", "2001:db8::/32"],
        }),
        token({ id: 2, name: XSS_NAME, description: "<script>alert(2)</script>", created_at: iso(-40 * DAY), expires_at: null, idle_days: null, idle_expires_at: null }),
        token({ id: 3, name: "Postman", status: "deactivated", status_changed_at: iso(-DAY), last_used_at: iso(-5 * DAY), last_used_ip: "127.0.0.1", last_used_agent: "PostmanRuntime/7.39.0", use_count: 17 }),
        token({ id: 4, name: "Old laptop script", status: "revoked", created_at: iso(-200 * DAY), expires_at: iso(-100 * DAY), status_changed_at: iso(-120 * DAY) }),
        token({ id: 5, name: "Quarterly report", status: "expired", created_at: iso(-95 * DAY), expires_at: iso(-5 * DAY), use_count: 4, last_used_at: iso(-30 * DAY) }),
      ]
    : [];

let userToken: TokenInfo | null = scenario.userToken
  ? token({ id: 50, kind: "user", name: "User API token", hint: "tsr_u_…9f3a", last_used_at: iso(-2 * DAY), created_at: iso(-60 * DAY), expires_at: null })
  : null;

const uses: UsageEntry[] = [
  { id: 240, at: iso(-3 * 3_600_000), ip: "10.20.30.40", user_agent: "curl/8.5.0", method: "GET", path: "/v1/me", status: 200, outcome: "accepted", via: "bearer", uses: 240 },
  { id: 239, at: iso(-5 * 3_600_000), ip: "10.20.30.41", user_agent: "python-requests/2.32", method: "GET", path: "/v1/tokens", status: 200, outcome: "accepted", via: "bearer", uses: 1 },
  { id: 237, at: iso(-26 * 3_600_000), ip: "192.0.2.7", user_agent: "curl/8.5.0", method: "GET", path: "/v1/me", status: 403, outcome: "refused: network not allowed", via: "x-api-key", uses: 1 },
];

function newSecret(kind: "p" | "u" | "c" | "s"): string {
  secretCounter += 1;
  return realSecret(kind, secretCounter);
}

/** A team server's certificate fingerprint, as a real one reads. */
const FAKE_SERVER_FINGERPRINT = "4B:9C:22:F7:13:AA:3F:9A:12:7C:E4:88:01:BD:5A:6E:93:C0:2F:71:D8:44:B6:0E:19:A2:7F:C3:55:6D:81:E0";
let nextTeamUrl: string | null = scenario.teamUrl ?? null;
let teamReachable = scenario.teamReachable ?? true;
/** The person trusted a new certificate of the window's own team server. */
let repinned = false;
/** Still unconnected (scenario.unconnected) until the person trusts the server. */
let unconnected = scenario.unconnected !== undefined && scenario.teamUrl !== undefined;

function connection(): Connection {
  const teamUrl = scenario.teamUrl ?? null;
  if (unconnected) return { teamUrl: null, nextTeamUrl, setByEnvironment: false, restartNeeded: true };
  return { teamUrl, nextTeamUrl, setByEnvironment: false, restartNeeded: teamUrl !== nextTeamUrl || repinned };
}
window.__SET_TEAM_REACHABLE__ = (reachable) => {
  teamReachable = reachable;
};
/** What the window does without its team server: its own state, the clipboard, and the
 *  connection settings. Everything else asks the server. */
const WITHOUT_SERVER: readonly string[] = ["app_status", "get_connection", "fetch_server_certificate", "use_team_server", "use_this_computer", "restart_app", "copy_secret", "clear_clipboard", "sign_out"];

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
    unconnected: unconnected && scenario.teamUrl && scenario.unconnected ? { url: scenario.teamUrl, problem: scenario.unconnected } : null,
    team: scenario.teamUrl && !unconnected
      ? {
          url: scenario.teamUrl,
          fingerprint: "7C:E4:88:01:BD:5A:6E:93:C0:2F:71:D8:44:B6:0E:19:A2:7F:C3:55:6D:81:E0:4B:9C:22:F7:13:AA:3F:9A:12:00",
          reachable: teamReachable,
        }
      : null,
    keyWarning: null,
    auditProblem: scenario.auditProblem ?? null,
    lockAfterMinutes: scenario.lockAfterMinutes,
  };
}

function requireMe(): Me {
  if (!signedIn || !me) throw realError("signedOut");
  return me;
}

function find(id: number): TokenInfo {
  const t = tokens.find((x) => x.id === id);
  if (!t) throw realError("unknownToken", id);
  return t;
}

type Args = Record<string, unknown>;

// The refusals the scenario asks for, each replayed once on its command's next call.
const refusals = new Map(Object.entries(scenario.refuse ?? {}));
for (const cmd of refusals.keys()) {
  if (!REAL_COMMANDS.includes(cmd)) throw new Error(`scenario.refuse names ${cmd}, which the real app does not have`);
}

function replayRefusal(cmd: string) {
  const refusal = refusals.get(cmd);
  if (!refusal) return;
  refusals.delete(cmd);
  throw realError(...refusal);
}

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
  // Signing in takes a moment in the real app (password hashing), refused or not.
  if (cmd === "sign_in") await sleep(300);
  if (scenario.teamUrl && !teamReachable && !WITHOUT_SERVER.includes(cmd)) {
    throw realError("teamUnreachable", { url: scenario.teamUrl, why: "Connection refused (os error 111)" });
  }
  replayRefusal(cmd);
  const answer = await admin.handle(cmd, args);
  if (answer !== UNHANDLED) return answer;
  switch (cmd) {
    case "app_status":
      return status();
    case "setup_company": {
      const req = args.req as { company: string; name: string; email: string; password: string };
      company = req.company;
      me = { id: 1, email: req.email, name: req.name, role: "admin", sourceGroup: "", company: req.company };
      signedIn = true;
      return me;
    }
    case "sign_in":
      signedIn = true;
      return requireMe();
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
    case "change_password":
      requireMe();
      return null;
    case "get_user_token":
      requireMe();
      return userToken;
    case "regenerate_user_token": {
      requireMe();
      const secret = newSecret("u");
      userToken = token({ id: 51 + secretCounter, kind: "user", name: "User API token", hint: realHint(secret), created_at: iso(0), expires_at: null });
      const r: Revealed = { token: userToken, secret, baseUrl: status().api.baseUrl };
      return r;
    }
    case "list_my_tokens":
      requireMe();
      return tokens;
    case "get_token": {
      requireMe();
      const t = find(args.id as number);
      return { token: t, recentUses: t.use_count > 0 ? uses : [] };
    }
    case "create_personal_token": {
      requireMe();
      const req = args.req as CreateTokenRequest;
      const secret = newSecret("p");
      const expiresAt =
        req.expiry.type === "days" ? iso(req.expiry.days * DAY) : req.expiry.type === "at" ? req.expiry.at : null;
      const t = token({
        id: nextId++,
        name: req.name,
        description: req.description,
        scopes: req.scopes,
        created_at: iso(0),
        expires_at: expiresAt,
        idle_days: req.idleDays,
        idle_expires_at: req.idleDays ? iso(req.idleDays * DAY) : null,
        allowed_networks: req.networks,
        rate_limit: req.rateLimit ?? policy.default_rate_limit,
        alert_new_sources: req.alertNewSources ?? false,
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
      t.status_changed_at = iso(0);
      return t;
    }
    case "set_token_note": {
      requireMe();
      const t = find(args.id as number);
      t.note = String(args.note).trim();
      return t;
    }
    case "set_token_alerts": {
      requireMe();
      const t = find(args.id as number);
      t.alert_new_sources = Boolean(args.alertNewSources);
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
      return { clearsInSeconds: policy.clipboard_seconds };
    case "clear_clipboard":
      return null;
    case "save_postman_environment":
    case "save_client_postman_environment":
    case "save_client_postman_collection":
      requireMe();
      return null;
    case "get_connection":
      return connection();
    case "fetch_server_certificate":
      return { url: String(args.url).trim().replace(/\/$/, ""), fingerprint: FAKE_SERVER_FINGERPRINT };
    case "use_team_server":
      nextTeamUrl = String(args.url);
      if (nextTeamUrl === scenario.teamUrl) {
        // The real app connects an unconnected window in place; a connected one restarts.
        if (unconnected) unconnected = false;
        else repinned = true;
      }
      return connection();
    case "use_this_computer":
      nextTeamUrl = null;
      return connection();
    case "restart_app":
      // The real app starts again; here the test reads the call.
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
