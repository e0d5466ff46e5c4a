import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import contract from "../../e2e/contract.json";

// The app's commands are declared once, in src-tauri/src/commands/list.rs; the app crate's
// tests copy that list into e2e/contract.json (drift-checked in CI). The window calls them
// through the wrappers in ipc.ts: a command without a wrapper, or a wrapper for a command
// the app does not register, fails here.
const listed: string[] = contract.commands;
const wrapped = [...readFileSync(join(__dirname, "ipc.ts"), "utf8").matchAll(/call<[^>]*>\("([a-z_]+)"/g)].map((m) => m[1]);

describe("IPC wrappers", () => {
  it("read the command list", () => {
    expect(listed.length).toBeGreaterThan(30);
    expect(listed).toContain("app_status");
  });

  it("wrap every command the app registers, and nothing else", () => {
    expect([...new Set(wrapped)].sort()).toEqual([...listed].sort());
  });
});
