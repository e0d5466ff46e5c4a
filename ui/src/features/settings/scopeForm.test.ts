import { describe, expect, it } from "vitest";
import { IpcFailure } from "../../lib/ipc";
import { placeScopeError, scopeNameError } from "./scopeForm";

describe("add-scope form errors", () => {
  it("shows an invalid scope name (field `scopes`) beside the name input", () => {
    // 65 characters: passes the form's own check, refused by the backend (at most 64).
    const message = `'${"a".repeat(65)}' is not a valid scope name; use 1-64 lower-case letters, digits and : . _ - (for example billing:read)`;
    const errors = placeScopeError(new IpcFailure({ type: "Invalid", field: "scopes", message }));
    expect(scopeNameError(errors)).toBe(message);
    expect(errors.form).toBeUndefined();
  });

  it("shows a duplicate (field `name`) beside the name input", () => {
    const errors = placeScopeError(new IpcFailure({ type: "Conflict", field: "name", message: "the scope reports:read already exists" }));
    expect(scopeNameError(errors)).toBe("the scope reports:read already exists");
    expect(errors.form).toBeUndefined();
  });

  it("shows a description error beside the description, and anything else in the form's own message", () => {
    const described = placeScopeError(new IpcFailure({ type: "Invalid", field: "description", message: "too long" }));
    expect(described).toEqual({ description: "too long" });
    expect(scopeNameError(described)).toBeUndefined();
    const other = placeScopeError(new IpcFailure({ type: "Forbidden", field: null, message: "only an admin may add scopes" }));
    expect(other).toEqual({ form: "Only an admin may add scopes" });
    expect(scopeNameError(other)).toBeUndefined();
  });
});
