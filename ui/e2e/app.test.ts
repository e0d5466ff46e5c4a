// The built UI in Chromium with the IPC mocked: every screen renders, the create and reveal
// flows work end to end against the fake backend, hostile names stay text, keyboard-only works.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { PASSWORD, XSS_NAME } from "./scenario";
import { REAL_POLICY, realError, realHint, shownBesideField } from "./real";
import { startHarness, type Harness, type Opened } from "./harness";

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

async function ipcCalls(page: Page, cmd: string): Promise<unknown[]> {
  return page.evaluate((c) => window.__IPC_CALLS__.filter((x) => x.cmd === c).map((x) => x.args), cmd);
}

describe("first run and sign-in", () => {
  it("first run creates the company and the first admin, then shows the empty token list", async () => {
    const o = await h.open({ initialised: false, signedIn: false, tokens: "empty", userToken: false });
    const { page } = o;
    await page.getByRole("heading", { name: "Welcome to Tessera" }).waitFor(T);
    await page.getByLabel("Company").fill("Acme Widgets GmbH");
    await page.getByLabel("Your name").fill("Ada Lovelace");
    await page.getByLabel("E-mail").fill("ada@acme.example");
    await page.getByLabel("Password", { exact: true }).fill("short");
    await page.getByText("Too short.").waitFor(T);
    await page.getByRole("button", { name: "Create company and sign in" }).click();
    await page.getByText("Use at least 12 characters.").waitFor(T);
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByLabel("Repeat password").fill(PASSWORD + "!");
    await o.shot("setup");
    await page.getByRole("button", { name: "Create company and sign in" }).click();
    await page.getByText("The passwords do not match.").waitFor(T);
    await page.getByLabel("Repeat password").fill(PASSWORD);
    await page.getByLabel("Repeat password").press("Enter");
    await page.getByRole("heading", { name: "Dashboard" }).waitFor(T);
    await page.getByRole("navigation").getByRole("button", { name: "My tokens" }).click();
    await page.getByRole("heading", { name: "No personal tokens yet" }).waitFor(T);
    assert.ok(await page.getByText("Acme Widgets GmbH").isVisible());
    assert.ok(await page.getByText("API running").isVisible());
    assert.ok(await page.getByRole("banner").getByText("This computer", { exact: true }).isVisible(), "the header names the store");
    await o.shot("my-tokens-empty");
    const [setup] = await ipcCalls(page, "setup_company");
    assert.deepEqual(setup, { req: { company: "Acme Widgets GmbH", name: "Ada Lovelace", email: "ada@acme.example", password: PASSWORD } });
    await noProblems(o);
    await o.context.close();
  });

  it("sign-in shows a pending state and the backend's error, then signs in", async () => {
    // The real refusal of a wrong password, replayed for the first attempt.
    const o = await h.open({ signedIn: false, refuse: { sign_in: ["wrongPassword"] } });
    const { page } = o;
    await page.getByRole("heading", { name: "Sign in to Tessera" }).waitFor(T);
    await page.getByLabel("E-mail").fill("ada@acme.example");
    await page.getByLabel("Password").fill("wrong password");
    await page.getByLabel("Password").press("Enter");
    await page.getByRole("button", { name: "Checking…" }).waitFor(T);
    // The real refusal ("wrong e-mail or password", about no one field), as the form shows it.
    assert.deepEqual(realError("wrongPassword"), { type: "Forbidden", field: null, message: "wrong e-mail or password" });
    await page.getByRole("alert").getByText("Wrong e-mail or password", { exact: true }).waitFor(T);
    await o.shot("sign-in-error");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Dashboard" }).waitFor(T);
    // What was typed went to the backend each time.
    assert.deepEqual(await ipcCalls(page, "sign_in"), [
      { req: { email: "ada@acme.example", password: "wrong password" } },
      { req: { email: "ada@acme.example", password: PASSWORD } },
    ]);
    await noProblems(o);
    await o.context.close();
  });

  it("an idle session locks and returns to sign-in with the reason", async () => {
    const o = await h.open({ lockAfterMinutes: 1, role: "user" }, { beforeLoad: (page) => page.clock.install() });
    const { page } = o;
    await page.getByRole("heading", { name: "My tokens" }).waitFor(T);
    await page.clock.runFor(65_000);
    await page.getByText("Locked after 1 minute idle.").waitFor(T);
    assert.equal((await ipcCalls(page, "sign_out")).length, 1);
    await o.shot("sign-in-locked");
    await noProblems(o);
    await o.context.close();
  });

  it("a command answering Unauthenticated sends the app back to sign-in", async () => {
    const o = await h.open({ unauthenticatedOn: "list_my_tokens", role: "user" });
    await o.page.getByRole("heading", { name: "Sign in to Tessera" }).waitFor(T);
    await o.page.getByText("Your session has ended. Sign in again.").waitFor(T);
    await o.context.close();
  });
});

describe("audit log check", () => {
  it("shows a red banner on every page when the audit log was tampered with", async () => {
    const problem =
      "The audit log has been tampered with: entry 3: does not follow entry 1 (entries were deleted). Run `tessera audit verify` for details and restore the database from a backup.";
    const o = await h.open({ auditProblem: problem });
    const { page } = o;
    const banner = page.getByRole("alert").filter({ hasText: "tampered with" });
    await banner.waitFor(T);
    assert.equal((await banner.textContent())?.trim(), problem);
    assert.match((await banner.getAttribute("class")) ?? "", /banner-error/);
    await page.getByRole("button", { name: "Profile" }).click();
    await page.getByRole("heading", { name: "Profile" }).waitFor(T);
    await banner.waitFor(T);
    await o.shot("audit-tampered-banner");
    await noProblems(o);
    await o.context.close();
  });

  it("shows no banner when the audit log is intact", async () => {
    const o = await h.open();
    const { page } = o;
    await page.getByRole("button", { name: "Profile" }).click();
    await page.getByRole("heading", { name: "Profile" }).waitFor(T);
    assert.equal(await page.getByText("tampered with").count(), 0);
    await o.context.close();
  });
});

describe("profile", () => {
  it("shows the profile and regenerates the user API token after confirmation", async () => {
    const o = await h.open();
    const { page } = o;
    await page.getByRole("button", { name: "Profile" }).click();
    await page.getByRole("heading", { name: "Profile" }).waitFor(T);
    assert.equal(await page.getByLabel("E-mail").inputValue(), "ada@acme.example");
    assert.equal(await page.getByLabel("Role").inputValue(), "Admin");
    await page.getByText("tsr_u_…9f3a").waitFor(T);
    await o.shot("profile", true);
    await page.getByRole("button", { name: "Generate new token" }).click();
    const confirm = page.getByRole("alertdialog");
    await confirm.getByText("stops working now").waitFor(T);
    await o.shot("profile-regenerate-confirm");
    await confirm.getByRole("button", { name: "Generate new token" }).click();
    const reveal = page.getByRole("dialog", { name: "Your new user API token" });
    await reveal.getByText("This token will not be shown again.").waitFor(T);
    const userSecret = await reveal.getByLabel("Token", { exact: true }).inputValue();
    assert.match(userSecret, /^tsr_u_/);
    await reveal.getByLabel("I have stored this token").check();
    await reveal.getByRole("button", { name: "Done" }).click();
    await reveal.waitFor({ state: "detached", ...T });
    await page.getByText(realHint(userSecret)).waitFor(T);
    await noProblems(o);
    await o.context.close();
  });

  it("shows the backend's field error next to the current password", async () => {
    const o = await h.open({ refuse: { change_password: ["wrongCurrentPassword"] } });
    const { page } = o;
    await page.getByRole("button", { name: "Profile" }).click();
    await page.getByLabel("Current password").fill("not it at all");
    await page.getByLabel("New password", { exact: true }).fill("a much better passphrase 7");
    await page.getByLabel("Repeat new password").fill("a much better passphrase 7");
    await page.getByRole("button", { name: "Change password" }).click();
    const error = page.getByText(shownBesideField(realError("wrongCurrentPassword")));
    await error.waitFor(T);
    const describedBy = await page.getByLabel("Current password").getAttribute("aria-describedby");
    assert.ok(describedBy?.includes((await error.getAttribute("id")) ?? "missing"), "the error is tied to the current password");
    assert.deepEqual(await ipcCalls(page, "change_password"), [{ req: { current: "not it at all", next: "a much better passphrase 7" } }]);
    await o.context.close();
  });
});

describe("my tokens", () => {
  it("lists tokens with status words, shows a hostile name as text, and opens details", async () => {
    const o = await h.open({ role: "user" });
    const { page } = o;
    const table = page.getByRole("table");
    await table.getByText("CI deploy").waitFor(T);
    await table.getByText(XSS_NAME).waitFor(T);
    assert.equal(await page.locator('img[src="x"]').count(), 0, "the name is not parsed as HTML");
    for (const word of ["Active", "Deactivated", "Revoked", "Expired"]) {
      assert.ok(await table.getByText(word, { exact: true }).first().isVisible(), `status ${word} shown as a word`);
    }
    assert.equal(await table.getByText("3 hours ago").getAttribute("title") !== null, true, "exact date on hover");
    await o.shot("my-tokens");

    await table.getByRole("button", { name: XSS_NAME }).click();
    const panel = page.getByRole("dialog", { name: XSS_NAME });
    await panel.getByText("<script>alert(2)</script>").waitFor(T);
    assert.equal(await page.locator("img[src='x']").count(), 0);
    await page.keyboard.press("Escape");
    await panel.waitFor({ state: "detached", ...T });

    await table.getByText("CI deploy").click();
    const details = page.getByRole("dialog", { name: "CI deploy" });
    await details.getByText("10.0.0.0/8, 2001:db8::/32").waitFor(T);
    await details.getByText("refused: network not allowed").waitFor(T);
    await details.getByText("1284 accepted, 3 refused").waitFor(T);
    const owner = details.locator("dt", { hasText: /^Owner$/ }).locator("xpath=following-sibling::dd[1]");
    assert.equal(await owner.innerText(), "Ada Lovelace (ada@acme.example)");
    await o.shot("token-details");
    await details.getByRole("button", { name: "Deactivate" }).click();
    const confirm = page.getByRole("alertdialog");
    await confirm.getByText("Requests with this token are refused").waitFor(T);
    await confirm.getByRole("button", { name: "Deactivate" }).click();
    await confirm.waitFor({ state: "detached", ...T });
    await details.getByRole("button", { name: "Activate" }).waitFor(T);
    assert.deepEqual(await ipcCalls(page, "set_token_status"), [{ id: 1, action: "deactivate" }]);
    await noProblems(o);
    assert.deepEqual(o.dialogs, []);
    await o.context.close();
  });

  it("turns a token's new-source alerts on and off in its details", async () => {
    const o = await h.open({ role: "user" });
    const { page } = o;
    await page.getByRole("table").getByText("CI deploy").click();
    const details = page.getByRole("dialog", { name: "CI deploy" });
    const alerts = details.locator("dt", { hasText: /^New-source alerts$/ }).locator("xpath=following-sibling::dd[1]");
    await alerts.getByText("Off", { exact: true }).waitFor(T);
    await alerts.getByRole("button", { name: "Turn on" }).click();
    await alerts.getByText(/^On: a new network/).waitFor(T);
    await alerts.getByRole("button", { name: "Turn off" }).click();
    await alerts.getByText("Off", { exact: true }).waitFor(T);
    assert.deepEqual(await ipcCalls(page, "set_token_alerts"), [
      { id: 1, alertNewSources: true },
      { id: 1, alertNewSources: false },
    ]);
    await noProblems(o);
    await o.context.close();
  });

  it("adds, changes and clears a token's note in its details, also on a revoked token", async () => {
    const o = await h.open({ role: "user" });
    const { page } = o;
    await page.getByRole("table").getByText("CI deploy").click();
    const details = page.getByRole("dialog", { name: "CI deploy" });
    const note = details.locator("dt", { hasText: /^Note$/ }).locator("xpath=following-sibling::dd[1]");
    await note.getByText("No note").waitFor(T);
    await note.getByRole("button", { name: "Add note" }).click();
    await note.getByLabel("Note").fill("  Rotated by the platform team; ask #billing  ");
    await note.getByRole("button", { name: "Save note" }).click();
    await note.getByText("Rotated by the platform team; ask #billing", { exact: true }).waitFor(T);
    await note.getByRole("button", { name: "Edit note" }).click();
    await note.getByLabel("Note").fill("");
    await note.getByLabel("Note").press("Enter");
    await note.getByText("No note").waitFor(T);
    await page.keyboard.press("Escape");
    await details.waitFor({ state: "detached", ...T });

    // The backend lets whoever manages a token change its note whatever its status.
    await page.getByRole("table").getByText("Old laptop script").click();
    const revoked = page.getByRole("dialog", { name: "Old laptop script" });
    await revoked.getByText("Revoked", { exact: true }).waitFor(T);
    const revokedNote = revoked.locator("dt", { hasText: /^Note$/ }).locator("xpath=following-sibling::dd[1]");
    await revokedNote.getByRole("button", { name: "Add note" }).click();
    await revokedNote.getByLabel("Note").fill("revoked: leaked in repo X");
    await revokedNote.getByRole("button", { name: "Save note" }).click();
    await revokedNote.getByText("revoked: leaked in repo X", { exact: true }).waitFor(T);
    assert.deepEqual(await ipcCalls(page, "set_token_note"), [
      { id: 1, note: "  Rotated by the platform team; ask #billing  " },
      { id: 1, note: "" },
      { id: 4, note: "revoked: leaked in repo X" },
    ]);
    await noProblems(o);
    await o.context.close();
  });

  it("shows the dark theme when the OS prefers it", async () => {
    const o = await h.open({ role: "user" }, { colorScheme: "dark" });
    await o.page.getByRole("table").getByText("CI deploy").waitFor(T);
    const bg = await o.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(bg, "rgb(17, 20, 24)");
    await o.shot("my-tokens-dark");
    await o.context.close();
  });
});

describe("create and reveal", () => {
  it("creates a token end to end and reveals it once; the reveal cannot be closed early", async () => {
    const o = await h.open({ tokens: "empty", clipboardSeconds: 2, role: "user" });
    const { page } = o;
    await page.getByRole("button", { name: "Create token" }).click();
    const dialog = page.getByRole("dialog", { name: "Create personal token" });
    await dialog.getByLabel("Name").waitFor(T);
    await dialog.getByText(/Expires .*\(in 30 days\)/).waitFor(T);
    await o.shot("create-dialog");

    await dialog.getByRole("button", { name: "Create token" }).click();
    await dialog.getByText("Give the token a name").waitFor(T);
    await dialog.getByText("Choose at least one scope.").waitFor(T);

    await dialog.getByLabel("Name").fill("Deploy bot");
    await dialog.getByLabel("Description").fill("Nightly deploys");
    await dialog.getByRole("checkbox", { name: /me:read/ }).check();
    await dialog.getByRole("checkbox", { name: /verify/ }).check();
    await dialog.getByRole("radio", { name: "90 days" }).check();
    await dialog.getByText(/\(in 3 months\)/).waitFor(T);
    await dialog.getByRole("radio", { name: "Custom" }).check();
    await dialog.getByLabel("Date and time").fill("2020-01-01T10:00");
    await dialog.getByText("Choose a time in the future.").waitFor(T);
    await dialog.getByRole("radio", { name: "60 days" }).check();
    await dialog.getByLabel("Allowed networks").fill("10.0.0.0/8\n10.0.0.0/33");
    await dialog.getByText(/Line 2: The prefix length/).waitFor(T);
    await dialog.getByLabel("Allowed networks").fill("10.0.0.0/8\n2001:db8::/32");
    await dialog.getByLabel("Rate limit (requests per minute)").fill("9999");
    await dialog.getByRole("button", { name: "Create token" }).click();
    await dialog.getByText(`The maximum is ${REAL_POLICY.max_rate_limit} requests per minute.`).waitFor(T);
    await dialog.getByLabel("Rate limit (requests per minute)").fill("120");
    // Off by default for a personal token.
    const alerts = dialog.getByRole("checkbox", { name: /Alert on new sources/ });
    assert.equal(await alerts.isChecked(), false);
    await alerts.check();
    await o.shot("create-dialog-filled");
    await dialog.getByRole("button", { name: "Create token" }).click();

    const reveal = page.getByRole("dialog", { name: "Your new token" });
    await reveal.getByText("This token will not be shown again.").waitFor(T);
    const secret = await reveal.getByLabel("Token", { exact: true }).inputValue();
    assert.match(secret, /^tsr_p_/);
    // One call: the UI kept the rate limit above the policy's maximum to itself.
    assert.deepEqual(await ipcCalls(page, "create_personal_token"), [{
      req: {
        name: "Deploy bot",
        description: "Nightly deploys",
        scopes: ["me:read", "tokens:verify"],
        expiry: { type: "days", days: 60 },
        idleDays: 30,
        networks: ["10.0.0.0/8", "2001:db8::/32"],
        rateLimit: 120,
        alertNewSources: true,
      },
    }]);

    // No way out before confirming: Esc, outside click, and Done disabled; no close button.
    await page.keyboard.press("Escape");
    await page.mouse.click(5, 5);
    assert.ok(await reveal.isVisible());
    assert.equal(await reveal.getByRole("button", { name: "Close" }).count(), 0);
    assert.ok(await reveal.getByRole("button", { name: "Done" }).isDisabled());

    await reveal.getByRole("button", { name: "curl" }).click();
    await reveal.getByText(/Copied curl\. Clipboard clears in \d s\./).waitFor(T);
    await o.shot("reveal-dialog");
    await reveal.getByText("Clipboard cleared.").waitFor(T);
    const copies = (await ipcCalls(page, "copy_secret")) as { text: string }[];
    assert.equal(copies[0].text, `curl --cacert tessera-ca.pem -H "Authorization: Bearer ${secret}" https://127.0.0.1:8443/v1/me`);

    await reveal.getByRole("button", { name: "Save Postman environment…" }).click();
    await reveal.getByText("Saved Postman environment to /home/ada/tessera-Deploy-bot.postman_environment.json").waitFor(T);
    assert.deepEqual(await ipcCalls(page, "save_postman_environment"), [
      { path: "/home/ada/tessera-Deploy-bot.postman_environment.json", secret, name: "Deploy bot" },
    ]);

    await reveal.getByLabel("I have stored this token").check();
    await reveal.getByRole("button", { name: "Done" }).click();
    await reveal.waitFor({ state: "detached", ...T });
    await page.getByRole("table").getByText("Deploy bot").waitFor(T);
    assert.equal(await page.getByText(secret).count(), 0, "the secret is gone from the page");
    await noProblems(o);
    await o.context.close();
  });

  it("shows the backend's error next to the field it names", async () => {
    const o = await h.open({ role: "user", refuse: { create_personal_token: ["duplicateTokenName", { name: "CI deploy" }] } });
    const { page } = o;
    await page.getByRole("button", { name: "Create token" }).click();
    const dialog = page.getByRole("dialog", { name: "Create personal token" });
    await dialog.getByLabel("Name").fill("CI deploy");
    await dialog.getByRole("checkbox", { name: /me:read/ }).check();
    await dialog.getByRole("button", { name: "Create token" }).click();
    const error = dialog.getByText(shownBesideField(realError("duplicateTokenName", { name: "CI deploy" })));
    await error.waitFor(T);
    const describedBy = await dialog.getByLabel("Name").getAttribute("aria-describedby");
    assert.ok(describedBy?.includes(await error.getAttribute("id") ?? "missing"), "the error is tied to the name field");
    const calls = (await ipcCalls(page, "create_personal_token")) as { req: { name: string } }[];
    assert.deepEqual(calls.map((c) => c.req.name), ["CI deploy"]);
    await o.context.close();
  });

  it("works with the keyboard alone: Tab, Space, Enter and Esc", async () => {
    const o = await h.open({ tokens: "empty", role: "user" });
    const { page } = o;
    const create = page.getByRole("button", { name: "Create token" });
    await create.waitFor(T);
    // Tab from the top of the page until the Create token button has focus.
    for (let i = 0; i < 15 && !(await create.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press("Tab");
    assert.ok(await create.evaluate((el) => el === document.activeElement), "Create token reachable by Tab");
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Create personal token" });
    await dialog.waitFor(T);
    assert.ok(await dialog.getByLabel("Name").evaluate((el) => el === document.activeElement), "focus starts in the name field");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached", ...T });
    // React Aria restores focus in the frame after the dialog unmounts, so poll briefly.
    await page.waitForFunction((el) => el === document.activeElement, await create.elementHandle(), { polling: "raf", timeout: 2_000 });

    await page.keyboard.press("Enter");
    await dialog.waitFor(T);
    await page.keyboard.type("Keyboard token");
    await page.keyboard.press("Tab"); // description
    await page.keyboard.press("Tab"); // first scope
    await page.keyboard.press("Space");
    // Focus stays trapped in the dialog however far we Tab.
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press("Tab");
      assert.ok(await dialog.evaluate((d) => d.contains(document.activeElement)), "focus trapped in the dialog");
    }
    await dialog.getByLabel("Name").focus();
    await page.keyboard.press("Enter");
    const reveal = page.getByRole("dialog", { name: "Your new token" });
    await reveal.waitFor(T);
    await page.keyboard.press("Escape");
    assert.ok(await reveal.isVisible(), "Esc does not close the reveal");
    const stored = reveal.getByLabel("I have stored this token");
    await stored.focus();
    await page.keyboard.press("Space");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await reveal.waitFor({ state: "detached", ...T });
    await page.getByRole("table").getByText("Keyboard token").waitFor(T);
    await noProblems(o);
    await o.context.close();
  });
});

describe("team server", () => {
  it("shows the team server in the header, and says so when it does not answer", async () => {
    const url = "https://tessera.acme.example:8443";
    // Signed out: the sign-in says which server it is for.
    const out = await h.open({ teamUrl: url, signedIn: false });
    await out.page.getByRole("heading", { name: "Sign in to Tessera" }).waitFor(T);
    await out.page.locator("form").getByText(`On the team server ${url}`).waitFor(T);
    await out.context.close();
    const o = await h.open({ teamUrl: url });
    const { page } = o;
    const pill = page.getByRole("button", { name: /Team server connected/ });
    await pill.waitFor(T);
    assert.match(await pill.innerText(), new RegExp(url.replace(/[.:/]/g, "\\$&")));
    // Not this computer's API: no in-app API badge.
    assert.equal(await page.getByRole("button", { name: /^API / }).count(), 0);
    assert.equal(await page.getByRole("banner").getByText("This computer", { exact: true }).count(), 0);
    await pill.click();
    const details = page.locator("#team-status-details");
    await details.getByText("Certificate SHA-256 (confirmed)").waitFor(T);
    assert.match(await details.innerText(), /nothing is kept on this computer/);
    await noProblems(o);
    await o.context.close();

    const away = await h.open({ teamUrl: url, teamReachable: false });
    await away.page.getByRole("button", { name: /Team server unreachable/ }).waitFor(T);
    await away.page.getByRole("status").filter({ hasText: "does not answer" }).waitFor(T);
    await away.shot("team-server-unreachable");
    await noProblems(away);
    await away.context.close();
  });

  it("asks to confirm the server's certificate when it starts unconnected, then signs in to it", async () => {
    const url = "https://tessera.acme.example:8443";
    const problem = `first connection to the team server at ${url}: its certificate's SHA-256 fingerprint is 4B:9C:22:F7. Compare it with the one \`tessera serve\` printed`;
    const o = await h.open({ teamUrl: url, signedIn: false, unconnected: problem });
    const { page } = o;
    await page.getByRole("heading", { name: "Connect to your team server" }).waitFor(T);
    await page.getByRole("status").filter({ hasText: problem }).waitFor(T);
    // Nothing but the connection: no sign-in, no first-run setup.
    assert.equal(await page.getByRole("heading", { name: "Sign in to Tessera" }).count(), 0);
    assert.equal(await page.getByRole("heading", { name: "Welcome to Tessera" }).count(), 0);
    const panel = page.getByRole("region", { name: "Connection" });
    await panel.getByText("This window is not connected to a store yet.").waitFor(T);
    assert.equal(await panel.getByRole("button", { name: "Restart Tessera now" }).count(), 0, "trusting connects, no restart");
    assert.equal(await panel.getByLabel("Team server address").inputValue(), url);
    await panel.getByRole("button", { name: "Show its certificate" }).click();
    const cert = panel.getByRole("group", { name: "The server's certificate" });
    const trust = cert.getByRole("button", { name: "Trust it and use this server" });
    assert.equal(await trust.isDisabled(), true, "not before the fingerprint is confirmed");
    await cert.getByLabel(/It is the same as the fingerprint/).check();
    await o.shot("team-server-first-contact");
    await trust.click();
    await page.getByRole("heading", { name: "Sign in to Tessera" }).waitFor(T);
    await page.locator("form").getByText(`On the team server ${url}`).waitFor(T);
    assert.equal((await ipcCalls(page, "use_team_server")).length, 1);
    assert.deepEqual(await ipcCalls(page, "restart_app"), [], "connected in place, no restart");
    await noProblems(o);
    await o.context.close();
  });

  it("trusts a replaced server certificate from the sign-in screen once confirmed, and restarts on it", async () => {
    const url = "https://tessera.acme.example:8443";
    const o = await h.open({ teamUrl: url, signedIn: false });
    const { page } = o;
    await page.getByRole("heading", { name: "Sign in to Tessera" }).waitFor(T);
    await page.locator("summary", { hasText: "Connection" }).click();
    const panel = page.getByRole("region", { name: "Connection" });
    await panel.getByText(`This window works on the team server ${url}.`).waitFor(T);
    assert.equal(await panel.getByRole("button", { name: "Restart Tessera now" }).count(), 0, "nothing to restart for yet");
    assert.equal(await panel.getByLabel("Team server address").inputValue(), url, "starts from the window's own server");
    await panel.getByRole("button", { name: "Show its certificate" }).click();
    const cert = panel.getByRole("group", { name: "The server's certificate" });
    await cert.getByLabel(/It is the same as the fingerprint/).check();
    await cert.getByRole("button", { name: "Trust it and use this server" }).click();
    await panel.getByText("From the next start it will trust the certificate you confirmed.").waitFor(T);
    await o.shot("team-server-repinned");
    await panel.getByRole("button", { name: "Restart Tessera now" }).click();
    await panel.getByRole("button", { name: "Restarting…" }).waitFor(T);
    assert.deepEqual(await ipcCalls(page, "restart_app"), [{}]);
    await noProblems(o);
    await o.context.close();
  });

  it("keeps the page read-only while the team server is away and carries on when it is back", async () => {
    const url = "https://tessera.acme.example:8443";
    const o = await h.open({ teamUrl: url });
    const { page } = o;
    await page.getByRole("button", { name: "My tokens" }).click();
    const create = page.getByRole("main").getByRole("button", { name: "Create token" });
    await create.waitFor(T);
    assert.ok(await create.isEnabled(), "Create token is enabled while the server answers");
    const name = page.getByRole("main").getByRole("button", { name: "CI deploy" });
    await name.waitFor(T);

    // The server goes away: the live poll (every 3 s) finds out, and the page stays on screen
    // with every control disabled.
    await page.evaluate(() => window.__SET_TEAM_REACHABLE__(false));
    const slow = { timeout: 8_000 };
    await page.getByRole("button", { name: /Team server unreachable/ }).waitFor(slow);
    const banner = page.getByRole("status").filter({ hasText: "does not answer" });
    await banner.waitFor(T);
    assert.match(await banner.innerText(), /read-only until it is back/);
    assert.ok(await create.isDisabled(), "Create token is disabled while the server is away");
    assert.ok(await name.isDisabled(), "a token's details cannot be opened while the server is away");
    assert.equal(await page.getByRole("main").getByRole("heading", { name: "My tokens" }).count(), 1, "the page stays");
    await o.shot("team-server-away-read-only");

    // Back: the window says so by itself, fetches afresh, and works again.
    const before = await ipcCalls(page, "list_my_tokens");
    await page.evaluate(() => window.__SET_TEAM_REACHABLE__(true));
    await page.getByRole("button", { name: /Team server connected/ }).waitFor(slow);
    await banner.waitFor({ state: "detached", ...T });
    assert.ok(await create.isEnabled(), "Create token is enabled again");
    await page.waitForFunction((n) => window.__IPC_CALLS__.filter((c) => c.cmd === "list_my_tokens").length > n, before.length, T);
    await create.click();
    await page.getByRole("dialog", { name: "Create personal token" }).waitFor(T);
    await noProblems(o);
    await o.context.close();
  });
});
