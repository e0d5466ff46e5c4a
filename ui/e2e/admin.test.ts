// The administration screens in Chromium against the fake backend: navigation by role, the
// dashboard's links, All tokens with 100,000 rows (virtualised, paged on demand), filters,
// bulk actions with progress, users, company tokens, usage, audit and settings.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import type { Policy } from "../src/bindings/Policy";
import { startHarness, type Harness, type Opened } from "./harness";
import { REAL_POLICY, realError, shownBesideField, statusChange } from "./real";

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

const T = { timeout: 5_000 };

async function noProblems(o: Opened) {
  assert.deepEqual(await o.problems(), [], "no page errors, console errors, CSP violations or JS dialogs");
}

async function ipcCalls<T = Record<string, unknown>>(page: Page, cmd: string): Promise<T[]> {
  return page.evaluate((c) => window.__IPC_CALLS__.filter((x) => x.cmd === c).map((x) => x.args), cmd) as Promise<T[]>;
}

type TokenQueryArgs = { query: { offset: number; limit: number; sort: string; descending: boolean; text: string | null; presentedInQuery: boolean; status: string | null } };

const nav = (page: Page, name: string) => page.getByRole("navigation").getByRole("button", { name, exact: true });

describe("navigation and dashboard", () => {
  it("shows each role its screens; admins land on the dashboard", async () => {
    const o = await h.open();
    const { page } = o;
    await page.getByRole("heading", { name: "Dashboard" }).waitFor(T);
    const items = await page.getByRole("navigation").getByRole("button").allInnerTexts();
    assert.deepEqual(items, ["Dashboard", "Company tokens", "All tokens", "Users", "Audit log", "Settings", "My tokens", "Profile"]);
    await page.getByText("Presented in a URL query").waitFor(T);
    await page.getByText(/URLs are written to server and proxy logs/).waitFor(T);
    // Each card shows its count from get_dashboard (the fake's numbers, in card order).
    assert.deepEqual(await page.locator(".dash-number").allInnerTexts(), ["3", "11", "27", "8", "52", "1", "143"]);
    // A token used from a new place: the count, and what was new with the request's address and client.
    await page.getByRole("heading", { name: "1 token used from a new place in 24 h" }).waitFor(T);
    const newPlace = page.getByRole("table", { name: "Tokens used from new places" }).getByRole("row").filter({ hasText: "Billing sync" });
    assert.match(await newPlace.innerText(), /network 203\.0\.113\.0\/24\s+203\.0\.113\.9\s+curl\/8\.5\.0/);
    // The token's name opens its details, where it can be revoked or rotated.
    await newPlace.getByRole("button", { name: "Billing sync" }).click();
    const opened = page.getByRole("dialog", { name: "Billing sync" });
    await opened.getByRole("button", { name: "Rotate…" }).waitFor(T);
    await page.keyboard.press("Escape");
    await opened.waitFor({ state: "detached", ...T });
    await o.shot("dashboard");
    await noProblems(o);
    await o.context.close();

    const vrm = await h.open({ role: "vrm_admin" });
    await vrm.page.getByRole("heading", { name: "My tokens" }).waitFor(T);
    assert.deepEqual(await vrm.page.getByRole("navigation").getByRole("button").allInnerTexts(), ["Company tokens", "All tokens", "My tokens", "Profile"]);
    await nav(vrm.page, "All tokens").click();
    await vrm.page.getByText("Company tokens and your own.").waitFor(T);
    await vrm.page.getByRole("row").filter({ hasText: "Billing sync" }).waitFor(T);
    assert.equal(await vrm.page.getByRole("row").filter({ hasText: "Kernel CI" }).count(), 0, "another person's token is not listed");
    await vrm.context.close();

    const user = await h.open({ role: "user" });
    await user.page.getByRole("heading", { name: "My tokens" }).waitFor(T);
    assert.deepEqual(await user.page.getByRole("navigation").getByRole("button").allInnerTexts(), ["My tokens", "Profile"]);
    await user.context.close();
  });

  it("a dashboard card opens All tokens with its filter", async () => {
    const o = await h.open();
    const { page } = o;
    await page.getByRole("button", { name: /Presented in a URL query/ }).click();
    await page.getByRole("heading", { name: "All tokens" }).waitFor(T);
    assert.ok(await page.getByRole("checkbox", { name: "Presented in a URL query" }).isChecked());
    await page.getByText("1 token match").waitFor(T);
    await page.getByRole("row").filter({ hasText: "Legacy webhook" }).waitFor(T);
    const calls = await ipcCalls<TokenQueryArgs>(page, "list_all_tokens");
    assert.ok(calls.length > 0 && calls.every((c) => c.query.presentedInQuery), "every query carries the card's filter");
    await o.shot("all-tokens-from-dashboard");

    await nav(page, "Dashboard").click();
    await page.getByRole("button", { name: /Active, never used/ }).click();
    await page.getByRole("heading", { name: "All tokens" }).waitFor(T);
    assert.ok(await page.getByRole("checkbox", { name: "Never used" }).isChecked());
    assert.equal(await page.getByLabel("Status").inputValue(), "active");
    await noProblems(o);
    await o.context.close();
  });
});

describe("all tokens", () => {
  it("scrolls 100,000 rows with a small DOM, fetching later pages on demand, and sorts on the server", async () => {
    const o = await h.open({ allTokens: "100k" });
    const { page } = o;
    await nav(page, "All tokens").click();
    await page.getByText("100,000 tokens").waitFor(T);
    await page.locator('.vt-body [role="row"][data-token-id]').first().waitFor(T);
    const rows = () => page.locator('[role="row"]').count();
    assert.ok((await rows()) < 200, `DOM rows at the top: ${await rows()}`);
    assert.equal(await page.getByRole("table", { name: "All tokens" }).getAttribute("aria-rowcount"), "100001");
    await o.shot("all-tokens-100k");

    await page.locator(".vt-scroll").evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await page.locator('[role="row"][data-index="99999"][data-token-id]').waitFor(T);
    assert.ok((await rows()) < 200, `DOM rows at the bottom: ${await rows()}`);
    const offsets = (await ipcCalls<TokenQueryArgs>(page, "list_all_tokens")).map((c) => c.query.offset);
    assert.ok(offsets.includes(99_900), `the last page was fetched (offsets ${offsets.join(", ")})`);
    assert.ok(offsets.length < 12, `only the pages in view were fetched, not all 1000 (${offsets.length} calls)`);
    // How fast the bottom appears is not asserted here: speed targets live in benchmarks.
    await page.getByText("Script 000001").or(page.getByText("Service 000001")).first().waitFor(T);
    await o.shot("all-tokens-100k-bottom");

    await page.getByRole("columnheader", { name: "Name" }).getByRole("button").click();
    await page.waitForFunction(() => window.__IPC_CALLS__.some((c) => c.cmd === "list_all_tokens" && (c.args as { query: { sort: string } }).query.sort === "name"));
    assert.equal(await page.getByRole("columnheader", { name: "Name" }).getAttribute("aria-sort"), "ascending");
    await page.getByRole("columnheader", { name: "Name" }).getByRole("button").click();
    assert.equal(await page.getByRole("columnheader", { name: "Name" }).getAttribute("aria-sort"), "descending");
    await noProblems(o);
    await o.context.close();
  });

  it("filters on the server, debouncing the search, and shows why and when tokens stopped", async () => {
    const o = await h.open();
    const { page } = o;
    await nav(page, "All tokens").click();
    await page.getByRole("row").filter({ hasText: "Billing sync" }).waitFor(T);
    const expired = page.getByRole("row").filter({ hasText: "Expired by idle" });
    await expired.getByText("Expired", { exact: true }).waitFor(T);
    assert.match(await expired.getByTitle(/Unused for 30 days/).innerText(), /idle, 3 days ago/);
    const revoked = page.getByRole("row").filter({ hasText: "Kernel CI" });
    await revoked.getByText(/2 weeks ago|14 days ago/).waitFor(T);
    // The owner column: a person's name and e-mail, or for a company token who created it.
    const notebook = page.getByRole("row").filter({ hasText: "Notebook" });
    await notebook.getByText("Alan Turing", { exact: true }).waitFor(T);
    await notebook.getByText("alan@acme.example", { exact: true }).waitFor(T);
    await page.getByRole("row").filter({ hasText: "Billing sync" }).getByText("by grace@acme.example", { exact: true }).waitFor(T);
    await o.shot("all-tokens");

    const before = (await ipcCalls(page, "list_all_tokens")).length;
    await page.getByLabel("Search").pressSequentially("noteb", { delay: 30 });
    await page.getByText("1 token match").waitFor(T);
    const texts = (await ipcCalls<TokenQueryArgs>(page, "list_all_tokens")).slice(before).map((c) => c.query.text);
    assert.deepEqual(texts, ["noteb"], "one query after typing stopped");
    await page.getByRole("row").filter({ hasText: "Notebook" }).waitFor(T);

    await page.getByRole("button", { name: /Clear filters/ }).click();
    await page.getByLabel("Status").selectOption("revoked");
    await page.getByText("1 token match").waitFor(T);
    await page.getByLabel("Expiring within (days)").fill("abc");
    await page.getByText("Enter a whole number of days, at least 1.").waitFor(T);
    await page.getByLabel("Expiring within (days)").fill("");
    await page.getByLabel("Status").selectOption("");
    await page.getByLabel("Kind").selectOption("company");
    await page.getByText("3 tokens match").waitFor(T);
    await o.shot("all-tokens-filtered");
    await noProblems(o);
    await o.context.close();
  });

  it("revokes many tokens with one confirmation, a progress bar and a summary", async () => {
    const o = await h.open({ allTokens: "100k", bulkDelayMs: 400 });
    const { page } = o;
    await nav(page, "All tokens").click();
    await page.locator('.vt-body [role="row"][data-token-id]').first().waitFor(T);
    await page.getByRole("checkbox", { name: "Select the rows in view" }).check();
    const selected = await page.getByRole("group", { name: "Bulk actions" }).locator("strong").innerText();
    const n = Number(selected.replace(/\D/g, ""));
    assert.ok(n > 50 && n <= 100, `selected ${n}`);
    await page.getByRole("button", { name: "Revoke…" }).click();
    const dialog = page.getByRole("alertdialog");
    await dialog.getByText(`Revoke ${n} tokens?`).waitFor(T);
    await dialog.getByText("Revoking is final").waitFor(T);
    await o.shot("bulk-revoke-confirm");
    await dialog.getByRole("button", { name: `Revoke ${n} tokens` }).click();
    await dialog.getByRole("progressbar").waitFor(T);
    // Polled every animation frame: the half-way state lasts one chunk (400 ms here).
    await page.waitForFunction((text) => document.getElementById("bulk-progress-label")?.textContent === text, `50 of ${n} processed`, { polling: "raf", ...T });
    await o.shot("bulk-revoke-progress");
    await dialog.getByText(`Revoked ${n} of ${n} tokens.`).waitFor(T);
    const calls = await ipcCalls<{ ids: number[]; action: string }>(page, "bulk_set_token_status");
    assert.deepEqual(calls.map((c) => c.ids.length), [50, n - 50]);
    assert.ok(calls.every((c) => c.action === "revoke"));
    await dialog.getByRole("button", { name: "Close" }).click();
    await page.getByRole("group", { name: "Bulk actions" }).waitFor({ state: "detached", ...T });
    await noProblems(o);
    await o.context.close();
  });

  it("summarises the tokens a bulk action could not change, with the reason", async () => {
    const o = await h.open();
    const { page } = o;
    await nav(page, "All tokens").click();
    await page.getByRole("row").filter({ hasText: "Billing sync" }).waitFor(T);
    await page.getByRole("button", { name: "Select all 15 matching" }).click();
    await page.getByText("13 selected").waitFor(T); // the two revoked tokens cannot change
    await page.getByRole("button", { name: "Deactivate…" }).click();
    const dialog = page.getByRole("alertdialog");
    await dialog.getByRole("button", { name: /^Deactivate \d+ tokens$/ }).click();
    // The real answers (contract.json's statusTransitions): expired tokens may be deactivated;
    // an already deactivated one (Postman, id 3) is refused with the real message.
    assert.deepEqual(statusChange(5, "expired", "deactivate"), { status: "deactivated" });
    const refused = statusChange(3, "deactivated", "deactivate");
    assert.ok("type" in refused, "the real backend refuses to deactivate a deactivated token");
    await dialog.getByText(refused.message).waitFor(T);
    assert.equal(await dialog.getByText(/expired/).count(), 0, "expired tokens are deactivated, not refused");
    await o.shot("bulk-deactivate-summary");
    await dialog.getByRole("button", { name: "Close" }).click();
    await page.getByRole("row").filter({ hasText: "Billing sync" }).getByText("Deactivated").waitFor(T);
    await noProblems(o);
    await o.context.close();
  });
});

describe("rotation", () => {
  it("offers Rotate… only where the backend allows it: a company token, or the admin's own, not another person's", async () => {
    const o = await h.open();
    const { page } = o;
    await nav(page, "All tokens").click();
    const check = async (name: string, offered: boolean) => {
      await page.getByRole("button", { name, exact: true }).click();
      const sheet = page.getByRole("dialog", { name });
      await sheet.getByRole("button", { name: "Deactivate" }).waitFor(T);
      assert.equal(await sheet.getByRole("button", { name: "Rotate…" }).count(), offered ? 1 : 0, name);
      await page.keyboard.press("Escape");
      await sheet.waitFor({ state: "detached", ...T });
    };
    await check("Billing sync", true);
    await check("Risk scanner", false);
    await check("Notebook", false);
    await nav(page, "My tokens").click();
    await page.getByRole("table").getByText("CI deploy").click();
    await page.getByRole("dialog", { name: "CI deploy" }).getByRole("button", { name: "Rotate…" }).waitFor(T);
    await noProblems(o);
    await o.context.close();
  });
});

describe("usage", () => {
  it("shows last use, a per-day chart over 7 / 30 / 90 days, recent requests and clients", async () => {
    const o = await h.open();
    const { page } = o;
    await nav(page, "All tokens").click();
    await page.getByRole("button", { name: "Billing sync" }).click();
    const sheet = page.getByRole("dialog", { name: "Billing sync" });
    await sheet.getByText("Company token, created by grace@acme.example").waitFor(T);
    await sheet.getByRole("tab", { name: "Usage" }).click();
    await sheet.getByRole("img", { name: /Uses per day/ }).waitFor(T);
    assert.equal(await sheet.locator(".chart-bar").count(), 30);
    await sheet.getByText("rate limit exceeded").waitFor(T);
    // A row standing for 240 identical requests in one second says so.
    await sheet.getByLabel("240 identical requests in this second").waitFor(T);
    await sheet.getByRole("cell", { name: "python-requests/2.32" }).first().waitFor(T);
    // What new-source alerts compare against: the networks and client families, with the setting's effect.
    assert.deepEqual(await sheet.getByRole("list", { name: "Networks" }).getByRole("listitem").locator(".mono").allInnerTexts(), ["10.20.30.0/24", "192.0.2.0/24"]);
    assert.deepEqual(await sheet.getByRole("list", { name: "Clients" }).getByRole("listitem").locator(".mono").allInnerTexts(), ["curl", "python-requests"]);
    await sheet.getByText("A use from anywhere else is alerted.").waitFor(T);
    await sheet.getByRole("columnheader", { name: "First seen" }).waitFor(T);
    await o.shot("usage");
    await sheet.getByText("90 days").click();
    await page.waitForFunction(() => document.querySelectorAll(".chart-bar").length === 90);
    assert.ok((await ipcCalls<{ days: number }>(page, "token_usage_report")).some((c) => c.days === 90));
    await sheet.getByText("7 days").click();
    await page.waitForFunction(() => document.querySelectorAll(".chart-bar").length === 7);
    await page.keyboard.press("Escape");

    await page.getByRole("button", { name: "Legacy webhook" }).click();
    const risky = page.getByRole("dialog", { name: "Legacy webhook" });
    await risky.getByRole("tab", { name: "Usage" }).click();
    await risky.getByText(/sent in a URL query parameter/).waitFor(T);
    await o.shot("usage-query-param");
    await noProblems(o);
    await o.context.close();
  });
});

describe("users", () => {
  it("shows a user another admin added, without a refresh", async () => {
    const o = await h.open({ externalUserAfterMs: 1_000 });
    const { page } = o;
    await nav(page, "Users").click();
    await page.getByRole("cell", { name: "grace@acme.example" }).waitFor(T);
    assert.equal(await page.getByRole("cell", { name: "elsewhere@acme.example" }).count(), 0);
    // Nothing is clicked: the version the window polls moves, and the list is fetched again.
    await page.getByRole("cell", { name: "elsewhere@acme.example" }).waitFor({ timeout: 10_000 });
    const polls = await ipcCalls(page, "store_version");
    assert.ok(polls.length >= 2, `polled ${polls.length} times`);
    await noProblems(o);
    await o.context.close();
  });

  it("previews what a role change takes away, and how many tokens deactivation revokes", async () => {
    // The real refusal of an e-mail that is taken, replayed for the first create.
    const o = await h.open({ refuse: { create_user: ["duplicateUser", { email: "grace@acme.example" }] } });
    const { page } = o;
    await nav(page, "Users").click();
    await page.getByRole("cell", { name: "grace@acme.example" }).waitFor(T);
    await o.shot("users");

    // An admin made a user: her token's admin-only scopes (the real catalogue's) go.
    await page.getByLabel("Role of Margaret Hamilton").selectOption("user");
    const role = page.getByRole("alertdialog", { name: "Make Margaret Hamilton User?" });
    await role.getByText("Their tokens lose:").waitFor(T);
    await role.getByText("audit:read").waitFor(T);
    await role.getByText("users:read").waitFor(T);
    await o.shot("users-role-preview");
    await role.getByRole("button", { name: "Change role to User" }).click();
    await role.waitFor({ state: "detached", ...T });
    assert.deepEqual(await ipcCalls(page, "set_user_role"), [{ email: "margaret@acme.example", role: "user" }]);

    await page.getByRole("button", { name: "Deactivate Alan Turing" }).click();
    const deactivate = page.getByRole("alertdialog", { name: "Deactivate Alan Turing?" });
    await deactivate.getByText("3 tokens will be revoked.").waitFor(T);
    await o.shot("users-deactivate");
    await deactivate.getByRole("button", { name: "Deactivate" }).click();
    await deactivate.waitFor({ state: "detached", ...T });
    await page.getByRole("button", { name: "Reactivate Alan Turing" }).waitFor(T);

    await page.getByRole("button", { name: "Reactivate Linus Torvalds" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Reactivate" }).click();
    await page.getByRole("button", { name: "Deactivate Linus Torvalds" }).waitFor(T);

    await page.getByRole("button", { name: "Create user" }).click();
    const create = page.getByRole("dialog", { name: "Create user" });
    await create.getByLabel("E-mail").fill("grace@acme.example");
    await create.getByLabel("Name").fill("Grace Two");
    await create.getByLabel("Role").selectOption("vrm_admin");
    await create.getByLabel("Initial password").fill("a long enough passphrase");
    await create.getByLabel("Source group").fill("vendor-risk");
    await create.getByRole("button", { name: "Create user" }).click();
    const taken = create.getByText(shownBesideField(realError("duplicateUser", { email: "grace@acme.example" })));
    await taken.waitFor(T);
    const emailDescribedBy = await create.getByLabel("E-mail").getAttribute("aria-describedby");
    assert.ok(emailDescribedBy?.includes((await taken.getAttribute("id")) ?? "missing"), "the error is tied to the e-mail field");
    await o.shot("users-create");
    await create.getByLabel("E-mail").fill("katherine@acme.example");
    await create.getByRole("button", { name: "Create user" }).click();
    await create.waitFor({ state: "detached", ...T });
    await page.getByRole("cell", { name: "katherine@acme.example" }).waitFor(T);
    const creates = await ipcCalls<{ req: { email: string } }>(page, "create_user");
    assert.deepEqual(creates.map((c) => c.req.email), ["grace@acme.example", "katherine@acme.example"]);
    await noProblems(o);
    await o.context.close();
  });
});

describe("company tokens", () => {
  it("lists company tokens with their creator and creates one with a required description", async () => {
    // The real refusal of a company token without a description, replayed for the first
    // create that gets past the form's own check.
    const o = await h.open({ refuse: { create_company_token: ["companyDescriptionRequired"] } });
    const { page } = o;
    await nav(page, "Company tokens").click();
    const billing = page.getByRole("row").filter({ hasText: "Billing sync" });
    await billing.getByText("grace@acme.example").waitFor(T);
    await page.getByRole("row").filter({ hasText: "Vendor portal" }).getByText("linus@acme.example").waitFor(T);
    await o.shot("company-tokens");
    await page.getByRole("button", { name: "Create company token" }).click();
    const dialog = page.getByRole("dialog", { name: "Create company token" });
    await dialog.getByLabel("Name").fill("Payroll export");
    await dialog.getByRole("checkbox", { name: /verify/ }).check();
    await dialog.getByRole("button", { name: "Create token" }).click();
    await dialog.getByText("Describe what uses this token and who to ask about it.").waitFor(T);
    await o.shot("company-token-create");
    await dialog.getByLabel("Description").fill("Monthly payroll export (owner: hr-it@acme.example)");
    await dialog.getByRole("button", { name: "Create token" }).click();
    const required = dialog.getByText(shownBesideField(realError("companyDescriptionRequired")));
    await required.waitFor(T);
    const describedBy = await dialog.getByLabel("Description").getAttribute("aria-describedby");
    assert.ok(describedBy?.includes((await required.getAttribute("id")) ?? "missing"), "the error is tied to the description");
    await dialog.getByRole("button", { name: "Create token" }).click();
    const reveal = page.getByRole("dialog", { name: "Your new token" });
    await reveal.getByText("This token will not be shown again.").waitFor(T);
    assert.match(await reveal.getByLabel("Token", { exact: true }).inputValue(), /^tsr_c_/);
    await reveal.getByLabel("I have stored this token").check();
    await reveal.getByRole("button", { name: "Done" }).click();
    await page.getByRole("row").filter({ hasText: "Payroll export" }).getByText("ada@acme.example").waitFor(T);
    // Only complete requests went out: the form kept the empty description to itself.
    const creates = await ipcCalls<{ req: { name: string; description: string } }>(page, "create_company_token");
    assert.deepEqual(creates.map((c) => [c.req.name, c.req.description]), [
      ["Payroll export", "Monthly payroll export (owner: hr-it@acme.example)"],
      ["Payroll export", "Monthly payroll export (owner: hr-it@acme.example)"],
    ]);
    await noProblems(o);
    await o.context.close();
  });
});

describe("OAuth clients", () => {
  it("registers a client, shows its secret once, rotates, retires, disables and deletes it", async () => {
    // The real refusal of a name another client has, replayed for the first registration.
    const o = await h.open({ refuse: { create_client: ["duplicateClientName", { name: "nightly-reports" }] } });
    const { page } = o;
    await nav(page, "Company tokens").click();
    const existing = page.getByRole("row").filter({ hasText: "nightly-reports" });
    await existing.getByText("tsc_4fJ8sK2pQ9wXz1Lm0aBc").waitFor(T);
    await existing.getByText("10.0.0.0/8").waitFor(T);
    await existing.getByText("24 tokens in 24 h").waitFor(T);
    await existing.getByText("1310 uses in all").waitFor(T);
    await o.shot("oauth-clients");

    await page.getByRole("button", { name: "Register OAuth client" }).click();
    const dialog = page.getByRole("dialog", { name: "Register OAuth client" });
    await dialog.getByRole("button", { name: "Register client" }).click();
    await dialog.getByText("Give the client a name").waitFor(T);
    await dialog.getByLabel("Name").fill("nightly-reports");
    await dialog.getByRole("checkbox", { name: /me:read/ }).check();
    await dialog.getByLabel("Access token lifetime").selectOption(String(15 * 60));
    await dialog.getByLabel("Allowed networks").fill("10.1.0.0/16");
    await dialog.getByRole("button", { name: "Register client" }).click();
    const taken = dialog.getByText(shownBesideField(realError("duplicateClientName", { name: "nightly-reports" })));
    await taken.waitFor(T);
    const describedBy = await dialog.getByLabel("Name").getAttribute("aria-describedby");
    assert.ok(describedBy?.includes((await taken.getAttribute("id")) ?? "missing"), "the error is tied to the name");
    await dialog.getByLabel("Name").fill("payroll-sync");
    await dialog.getByRole("button", { name: "Register client" }).click();

    const reveal = page.getByRole("dialog", { name: "Your new OAuth client" });
    await reveal.getByText("This secret will not be shown again.").waitFor(T);
    const clientId = await reveal.getByLabel("Client ID").inputValue();
    const secret = await reveal.getByLabel("Client secret").inputValue();
    assert.match(clientId, /^tsc_/);
    assert.match(secret, /^tsr_s_/);
    await o.shot("oauth-client-reveal");
    await reveal.getByRole("button", { name: "curl" }).click();
    await reveal.getByRole("button", { name: "Save Postman environment…" }).click();
    await reveal.getByText(/Saved Postman environment to/).waitFor(T);
    await reveal.getByRole("button", { name: "Save Postman collection…" }).click();
    await reveal.getByText(/Saved Postman collection to/).waitFor(T);
    assert.equal(await reveal.getByRole("button", { name: "Done" }).isDisabled(), true, "Done waits for the confirmation");
    await reveal.getByLabel("I have stored this secret").check();
    await reveal.getByRole("button", { name: "Done" }).click();
    await reveal.waitFor({ state: "detached", ...T });
    const copies = await ipcCalls<{ text: string }>(page, "copy_secret");
    assert.deepEqual(copies.map((c) => c.text), [`curl --cacert tessera-ca.pem -u ${clientId}:${secret} -d grant_type=client_credentials https://127.0.0.1:8443/oauth/token`]);
    const envs = await ipcCalls<{ clientId: string; secret: string; name: string }>(page, "save_client_postman_environment");
    assert.deepEqual(envs.map((e) => [e.clientId, e.secret, e.name]), [[clientId, secret, "payroll-sync"]]);
    const creates = await ipcCalls<{ req: { name: string; tokenTtlSeconds: number; networks: string[]; scopes: string[] } }>(page, "create_client");
    assert.deepEqual(creates.map((c) => [c.req.name, c.req.tokenTtlSeconds, c.req.networks, c.req.scopes]), [
      ["nightly-reports", 900, ["10.1.0.0/16"], ["me:read"]],
      ["payroll-sync", 900, ["10.1.0.0/16"], ["me:read"]],
    ]);

    const row = page.getByRole("row").filter({ hasText: "payroll-sync" });
    await row.getByText("Tokens live 15 minutes · 600/min").waitFor(T);
    await row.getByRole("button", { name: "New secret…" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Make new secret" }).click();
    const second = page.getByRole("dialog", { name: "New client secret" });
    await second.getByText(/the previous secret \(tsr_s_…/).waitFor(T);
    assert.notEqual(await second.getByLabel("Client secret").inputValue(), secret);
    await second.getByLabel("I have stored this secret").check();
    await second.getByRole("button", { name: "Done" }).click();
    assert.equal(await row.getByRole("button", { name: "New secret…" }).isDisabled(), true, "a third secret waits for a retirement");
    await row.getByRole("button", { name: /^Retire secret tsr_s_…/ }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Retire secret" }).click();
    await row.getByRole("button", { name: "New secret…" }).and(page.locator(":enabled")).waitFor(T);

    await row.getByRole("button", { name: "Disable" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Disable client" }).click();
    await row.getByText("Disabled").waitFor(T);
    await row.getByRole("button", { name: "Enable" }).click();
    await row.getByText("Active").waitFor(T);
    await row.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Delete client" }).click();
    await row.waitFor({ state: "detached", ...T });
    const statuses = await ipcCalls<{ action: string }>(page, "set_client_status");
    assert.deepEqual(statuses.map((c) => c.action), ["disable", "enable"]);
    await noProblems(o);
    await o.context.close();
  });
});

describe("audit and settings", () => {
  it("filters the audit log, loads older entries and exports CSV", async () => {
    const o = await h.open();
    const { page } = o;
    await nav(page, "Audit log").click();
    await page.getByText("200 entries shown").waitFor(T);
    await o.shot("audit");
    await page.getByRole("button", { name: "Load older" }).click();
    await page.getByText("400 entries shown").waitFor(T);
    await page.getByRole("button", { name: "Load older" }).click();
    await page.getByText("450 entries shown").waitFor(T);
    await page.getByText("· the beginning of the log").waitFor(T);
    await page.getByLabel("Action").fill("user.role_change");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.getByText("75 entries shown").waitFor(T);
    await page.getByText("from: user, to: vrm_admin").first().waitFor(T);
    await page.getByRole("button", { name: "Export CSV…" }).click();
    await page.getByText(/Exported 75 entries to \/home\/ada\/tessera-audit-.*\.csv\./).waitFor(T);
    const [exp] = await ipcCalls<{ path: string; query: { action: string } }>(page, "export_audit_csv");
    assert.equal(exp.query.action, "user.role_change");
    await o.shot("audit-filtered");
    await noProblems(o);
    await o.context.close();
  });

  it("saves the policy with the backend's errors inline, adds a scope and exports the CA certificate", async () => {
    // The real refusals of a default above the maximum and of a scope that exists, each
    // replayed for the first save.
    const o = await h.open({
      refuse: {
        update_policy: ["policyDefaultAboveMax", { value: 9999, max: REAL_POLICY.max_rate_limit }],
        add_scope: ["duplicateScope", { name: "billing:read" }],
      },
    });
    const { page } = o;
    await nav(page, "Settings").click();
    await page.getByLabel("Clipboard timeout (seconds)").waitFor(T);
    assert.equal(await page.getByLabel("Clipboard timeout (seconds)").inputValue(), "30");
    await o.shot("settings", true);
    // The backend refuses 0 for every policy number; the form says the allowed range first.
    await page.getByLabel("Clipboard timeout (seconds)").fill("0");
    await page.getByRole("button", { name: "Save policy" }).click();
    await page.getByText("Enter a whole number from 5 to 600.").waitFor(T);
    await page.getByLabel("Clipboard timeout (seconds)").fill("30");
    await page.getByLabel("Default rate limit (requests / minute)").fill("9999");
    await page.getByRole("button", { name: "Save policy" }).click();
    const error = page.getByText(shownBesideField(realError("policyDefaultAboveMax", { value: 9999, max: REAL_POLICY.max_rate_limit })));
    await error.waitFor(T);
    const describedBy = await page.getByLabel("Default rate limit (requests / minute)").getAttribute("aria-describedby");
    assert.ok(describedBy?.includes((await error.getAttribute("id")) ?? "missing"), "the error is tied to its field");
    await page.getByLabel("Default rate limit (requests / minute)").fill("120");
    await page.getByLabel("Clipboard timeout (seconds)").fill("45");
    await page.getByRole("button", { name: "Save policy" }).click();
    await page.getByText("Saved. Applies to new tokens").waitFor(T);
    // The whole policy goes back, in the real backend's shape, with the values changed.
    assert.deepEqual(await ipcCalls<{ policy: Policy }>(page, "update_policy"), [
      { policy: { ...REAL_POLICY, default_rate_limit: 9999 } },
      { policy: { ...REAL_POLICY, default_rate_limit: 120, clipboard_seconds: 45 } },
    ]);

    await page.getByLabel("New scope name").fill("billing:read");
    await page.getByLabel("Description", { exact: true }).fill("Read invoices again");
    await page.getByRole("button", { name: "Add scope" }).click();
    const exists = page.getByText(shownBesideField(realError("duplicateScope", { name: "billing:read" })));
    await exists.waitFor(T);
    const scopeDescribedBy = await page.getByLabel("New scope name").getAttribute("aria-describedby");
    assert.ok(scopeDescribedBy?.includes((await exists.getAttribute("id")) ?? "missing"), "the error is tied to the scope name");
    await page.getByLabel("New scope name").fill("reports:read");
    await page.getByLabel("Description", { exact: true }).fill("Read the monthly reports");
    await page.getByRole("button", { name: "Add scope" }).click();
    await page.getByRole("cell", { name: "reports:read" }).waitFor(T);
    assert.deepEqual(await ipcCalls(page, "add_scope"), [
      { name: "billing:read", description: "Read invoices again" },
      { name: "reports:read", description: "Read the monthly reports" },
    ]);

    await page.getByRole("button", { name: "Export CA certificate…" }).click();
    await page.getByText("Saved the CA certificate to /home/ada/tessera-ca.pem.").waitFor(T);
    await noProblems(o);
    await o.context.close();
  });
});

describe("dark theme", () => {
  it("renders the dashboard, All tokens and the usage chart in the dark theme", async () => {
    const o = await h.open({}, { colorScheme: "dark" });
    const { page } = o;
    await page.getByRole("heading", { name: "Dashboard" }).waitFor(T);
    await o.shot("dashboard-dark");
    await nav(page, "All tokens").click();
    await page.getByRole("button", { name: "Billing sync" }).click();
    const sheet = page.getByRole("dialog", { name: "Billing sync" });
    await sheet.getByRole("tab", { name: "Usage" }).click();
    await sheet.getByRole("img", { name: /Uses per day/ }).waitFor(T);
    await o.shot("usage-dark");
    await noProblems(o);
    await o.context.close();
  });
});

describe("connection", () => {
  it("chooses a team server only after its fingerprint is confirmed, and goes back to this computer", async () => {
    const o = await h.open();
    const { page } = o;
    await nav(page, "Settings").click();
    const panel = page.getByRole("region", { name: "Connection" });
    await panel.getByText("This window works on this computer.").waitFor(T);
    await panel.getByLabel("Team server address").fill("https://tessera.acme.example:8443/");
    await panel.getByRole("button", { name: "Show its certificate" }).click();
    const cert = panel.getByRole("group", { name: "The server's certificate" });
    await cert.getByText("4B:9C:22:F7:13:AA:3F:9A").waitFor(T);
    const trust = cert.getByRole("button", { name: "Trust it and use this server" });
    assert.equal(await trust.isDisabled(), true, "not before the fingerprint is confirmed");
    await cert.getByLabel(/It is the same as the fingerprint/).check();
    await trust.click();
    await panel.getByText("From the next start it will work on the team server https://tessera.acme.example:8443").waitFor(T);
    assert.deepEqual(await ipcCalls(page, "use_team_server"), [
      { url: "https://tessera.acme.example:8443", fingerprint: "4B:9C:22:F7:13:AA:3F:9A:12:7C:E4:88:01:BD:5A:6E:93:C0:2F:71:D8:44:B6:0E:19:A2:7F:C3:55:6D:81:E0" },
    ]);
    const restart = panel.getByRole("button", { name: "Restart Tessera now" });
    await restart.waitFor(T);
    await o.shot("settings-connection");
    await panel.getByRole("button", { name: "Use this computer instead" }).click();
    await panel.getByText(/From the next start/).waitFor({ state: "detached", ...T });
    await restart.waitFor({ state: "detached", ...T });
    assert.deepEqual(await ipcCalls(page, "restart_app"), [], "nothing to restart for");
    await panel.getByText("This window works on this computer.").waitFor(T);
    assert.deepEqual(await ipcCalls(page, "use_this_computer"), [{}]);
    await noProblems(o);
    await o.context.close();
  });
});
