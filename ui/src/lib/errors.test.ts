import { describe, expect, it } from "vitest";
import { formError, placeError } from "./errors";
import { IpcFailure, toIpcFailure } from "./ipc";

describe("backend errors", () => {
  it("keeps the field the backend named beside the message", () => {
    const e = new IpcFailure({ type: "Invalid", field: "rate_limit", message: "1300 requests per minute is not allowed; use 1 to 1200" });
    expect(formError(e)).toEqual({ field: "rate_limit", message: "1300 requests per minute is not allowed; use 1 to 1200" });
  });

  it("puts an error beside a field the form shows, and at the top otherwise", () => {
    const e = new IpcFailure({ type: "Conflict", field: "name", message: "a live token named 'x' already exists" });
    expect(placeError(e, ["name", "description"])).toEqual({ name: "a live token named 'x' already exists" });
    expect(placeError(e, ["description"])).toEqual({ form: "A live token named 'x' already exists" });
  });

  it("writes messages without a field as sentences, leaving a leading e-mail address alone", () => {
    expect(formError(new IpcFailure({ type: "Forbidden", field: null, message: "wrong e-mail or password" }))).toEqual({ field: null, message: "Wrong e-mail or password" });
    expect(formError(new IpcFailure({ type: "Forbidden", field: null, message: "ada@example.com is deactivated; ask an admin" }))).toEqual({
      field: null,
      message: "ada@example.com is deactivated; ask an admin",
    });
  });

  it("turns any rejection into an IpcFailure", () => {
    expect(toIpcFailure({ type: "NotFound", field: "id", message: "no token 7 that you may see" })).toMatchObject({ type: "NotFound", field: "id", message: "no token 7 that you may see" });
    expect(toIpcFailure("command not allowed")).toMatchObject({ type: "Internal", field: null, message: "command not allowed" });
    expect(toIpcFailure({ type: "Weird", message: 1 })).toMatchObject({ type: "Internal" });
    // A team server that cannot be reached keeps its own kind, for the offline state.
    expect(toIpcFailure({ type: "Unavailable", field: null, message: "the team server cannot be reached" })).toMatchObject({ type: "Unavailable" });
  });
});
