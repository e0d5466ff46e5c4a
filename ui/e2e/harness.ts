// Serves the built UI (ui/dist) with Vite's preview server under the app's strict CSP, starts
// Debian's Chromium through playwright-core, and opens pages with the fake backend injected.
import { build } from "esbuild";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { preview, type PreviewServer } from "vite";
import { REAL_COMMANDS, realError } from "./real";
import type { Scenario } from "./scenario";

const here = dirname(fileURLToPath(import.meta.url));
export const uiDir = join(here, "..");
export const artifacts = join(here, "artifacts");

/** The CSP the Tauri app ships, read from src-tauri/tauri.conf.json (the one source), enforced here so violations show up in tests. */
export const CSP: string = (() => {
  const conf = JSON.parse(readFileSync(join(here, "..", "..", "src-tauri", "tauri.conf.json"), "utf8")) as {
    app?: { security?: { csp?: unknown } };
  };
  const csp = conf.app?.security?.csp;
  if (typeof csp !== "string" || !csp.includes("default-src")) {
    throw new Error("src-tauri/tauri.conf.json has no app.security.csp string; the UI tests enforce the app's CSP");
  }
  return csp;
})();

export const defaultScenario: Scenario = {
  initialised: true,
  signedIn: true,
  tokens: "full",
  userToken: true,
  lockAfterMinutes: 15,
  clipboardSeconds: 30,
};

export type Harness = {
  url: string;
  open: (scenario?: Partial<Scenario>, options?: { colorScheme?: "light" | "dark"; beforeLoad?: (page: Page) => Promise<void> }) => Promise<Opened>;
  close: () => Promise<void>;
};

export type Opened = {
  page: Page;
  context: BrowserContext;
  /** Page errors, console errors, CSP violations and JS dialogs seen so far. */
  problems: () => Promise<string[]>;
  dialogs: string[];
  shot: (name: string, fullPage?: boolean) => Promise<void>;
};

export async function startHarness(): Promise<Harness> {
  mkdirSync(artifacts, { recursive: true });
  const bundle = await build({
    entryPoints: [join(here, "fake-backend.ts")],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  const fakeBackend = bundle.outputFiles[0].text;

  const server: PreviewServer = await preview({
    root: uiDir,
    configFile: false,
    logLevel: "silent",
    build: { outDir: "dist" },
    preview: { host: "127.0.0.1", port: 0, strictPort: false, headers: { "Content-Security-Policy": CSP } },
  });
  const address = server.httpServer.address();
  if (!address || typeof address === "string") throw new Error("preview server has no port");
  const url = `http://127.0.0.1:${address.port}/`;

  // launch() gives the browser a fresh temporary profile (--user-data-dir) and deletes it on close.
  const browser: Browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  }).catch(async (e: unknown) => {
    await server.close();
    throw e;
  });

  const open: Harness["open"] = async (scenario = {}, options = {}) => {
    // A refusal to replay names a real command and a recorded error with its placeholders filled.
    for (const [cmd, refusal] of Object.entries(scenario.refuse ?? {})) {
      if (!REAL_COMMANDS.includes(cmd)) throw new Error(`scenario.refuse names ${cmd}, which the real app does not have`);
      realError(...refusal);
    }
    const context = await browser.newContext({
      viewport: { width: 1200, height: 800 },
      colorScheme: options.colorScheme ?? "light",
      locale: "en-GB",
      timezoneId: "Europe/Berlin",
    });
    const page = await context.newPage();
    const errors: string[] = [];
    const dialogs: string[] = [];
    page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`console: ${m.text()}`);
    });
    page.on("dialog", (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      void d.dismiss();
    });
    await page.addInitScript({ content: `window.__TESSERA_SCENARIO__ = ${JSON.stringify({ ...defaultScenario, ...scenario })};` });
    await page.addInitScript({ content: fakeBackend });
    if (options.beforeLoad) await options.beforeLoad(page);
    await page.goto(url);
    return {
      page,
      context,
      dialogs,
      problems: async () => {
        const csp = await page.evaluate(() => window.__CSP_VIOLATIONS__ ?? []).catch(() => []);
        return [...errors, ...csp.map((c) => `csp: ${c}`), ...dialogs.map((d) => `dialog: ${d}`)];
      },
      shot: async (name, fullPage = false) => {
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
        await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage });
      },
    };
  };

  return {
    url,
    open,
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}
