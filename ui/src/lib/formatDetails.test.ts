import { describe, expect, it } from "vitest";
import { formatDetails } from "./auditQuery";

describe("formatDetails", () => {
  it("shows the details as key: value pairs, arrays space-separated", () => {
    expect(formatDetails({ from: "user", to: "vrm_admin" })).toBe("from: user, to: vrm_admin");
    expect(formatDetails({ name: "CI", scopes: ["verify", "me:read"] })).toBe("name: CI, scopes: verify me:read");
  });

  it("shows other values as JSON and empty or missing details as nothing", () => {
    expect(formatDetails({ tokens_revoked: 2, owner: null, policy: { max_lifetime_days: 90 } })).toBe(
      'tokens_revoked: 2, owner: null, policy: {"max_lifetime_days":90}',
    );
    expect(formatDetails({})).toBe("");
    expect(formatDetails(null)).toBe("");
  });
});
