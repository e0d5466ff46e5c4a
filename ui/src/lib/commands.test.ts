import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// The app's commands are declared once, in src-tauri/src/commands/list.rs; the window calls
// them through the wrappers in ipc.ts. A command without a wrapper, or a wrapper for a
// command the app does not register, fails here.
const root = join(__dirname, "..", "..", "..");
const listed = readFileSync(join(root, "src-tauri", "src", "commands", "list.rs"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => !l.startsWith("//") && l.endsWith(","))
  .map((l) => l.slice(0, -1).split("::")[1]?.trim())
  .filter((c): c is string => Boolean(c));
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
