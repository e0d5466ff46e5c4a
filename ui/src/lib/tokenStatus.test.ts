import { describe, expect, it } from "vitest";
import type { TokenInfo } from "../bindings/TokenInfo";
import { aToken } from "../../e2e/fixtures";
import { statusWhy } from "./tokenStatus";

const base: TokenInfo = aToken({ id: 1, name: "t", hint: "tsr_p_…0001", created_by: "a", scopes: [], rate_limit: 1 });
const now = new Date("2026-11-23T12:00:00Z");

describe("statusWhy", () => {
  it("says nothing for an active token", () => {
    expect(statusWhy(base, now)).toBeNull();
  });

  it("gives revoked and deactivated tokens the time of the change", () => {
    expect(statusWhy({ ...base, status: "revoked", status_changed_at: "2026-11-01T00:00:00Z" }, now)).toEqual({ reason: "Revoked (final)", at: "2026-11-01T00:00:00Z" });
    expect(statusWhy({ ...base, status: "deactivated", status_changed_at: "2026-11-02T00:00:00Z" }, now)?.reason).toBe("Deactivated");
  });

  it("tells a lifetime expiry from an idle expiry", () => {
    expect(statusWhy({ ...base, status: "expired", expires_at: "2026-11-20T00:00:00Z" }, now)).toEqual({ reason: "Reached its expiry date", at: "2026-11-20T00:00:00Z" });
    expect(statusWhy({ ...base, status: "expired", expires_at: "2027-01-01T00:00:00Z", idle_days: 30, idle_expires_at: "2026-11-10T00:00:00Z" }, now)).toEqual({
      reason: "Unused for 30 days",
      at: "2026-11-10T00:00:00Z",
    });
  });
});
