import { describe, expect, it } from "vitest";
import { fieldKey, formError, splitFieldMessage } from "./errors";
import { IpcFailure, toIpcFailure } from "./ipc";

describe("backend errors", () => {
  it("splits an Invalid message into the field it names and the message", () => {
    expect(splitFieldMessage("rateLimit: must be at most 600")).toEqual({ field: "rateLimit", message: "must be at most 600" });
    expect(splitFieldMessage("Wrong e-mail or password.")).toEqual({ field: null, message: "Wrong e-mail or password." });
  });

  it("normalises snake_case and dotted field names", () => {
    expect(fieldKey("rate_limit")).toBe("rateLimit");
    expect(fieldKey("req.idle_days")).toBe("idleDays");
  });

  it("attaches Invalid and Conflict errors to fields, other errors to the form", () => {
    expect(formError(new IpcFailure({ type: "Conflict", data: "name: taken" }))).toEqual({ field: "name", message: "taken" });
    expect(formError(new IpcFailure({ type: "Internal", data: "name: not a field here" }))).toEqual({ field: null, message: "name: not a field here" });
    // The real backend's refusals (src-tauri/crates/core/src/service.rs) read "sign-in: ...".
    expect(formError(new IpcFailure({ type: "Forbidden", data: "sign-in: wrong e-mail or password" }))).toEqual({ field: null, message: "Wrong e-mail or password" });
    expect(formError(new IpcFailure({ type: "Forbidden", data: "sign-in: ada@example.com is deactivated; ask an admin" }))).toEqual({ field: null, message: "ada@example.com is deactivated; ask an admin" });
  });

  it("turns any rejection into an IpcFailure", () => {
    expect(toIpcFailure({ type: "NotFound", data: "No such token." })).toMatchObject({ type: "NotFound", data: "No such token." });
    expect(toIpcFailure("command not allowed")).toMatchObject({ type: "Internal", data: "command not allowed" });
    expect(toIpcFailure({ type: "Weird", data: 1 })).toMatchObject({ type: "Internal" });
  });
});
