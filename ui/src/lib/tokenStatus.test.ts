import { describe, expect, it } from "vitest";
import type { TokenView } from "./contract";
import { statusWhy } from "./tokenStatus";

const base: TokenView = {
  id: 1, kind: "personal", name: "t", description: "", hint: "tsr_p_…0001", ownerEmail: null, ownerName: null, createdBy: "a",
  scopes: [], status: "active", createdAt: "2026-01-01T00:00:00Z", expiresAt: null, idleDays: null, idleExpiresAt: null,
  allowedNetworks: [], rateLimit: 1, statusChangedAt: null, lastUsedAt: null, lastUsedIp: null, lastUsedAgent: null, useCount: 0, refusedCount: 0,
};
const now = new Date("2026-11-23T12:00:00Z");

describe("statusWhy", () => {
  it("says nothing for an active token", () => {
    expect(statusWhy(base, now)).toBeNull();
  });

  it("gives revoked and deactivated tokens the time of the change", () => {
    expect(statusWhy({ ...base, status: "revoked", statusChangedAt: "2026-11-01T00:00:00Z" }, now)).toEqual({ reason: "Revoked (final)", at: "2026-11-01T00:00:00Z" });
    expect(statusWhy({ ...base, status: "deactivated", statusChangedAt: "2026-11-02T00:00:00Z" }, now)?.reason).toBe("Deactivated");
  });

  it("tells a lifetime expiry from an idle expiry", () => {
    expect(statusWhy({ ...base, status: "expired", expiresAt: "2026-11-20T00:00:00Z" }, now)).toEqual({ reason: "Reached its expiry date", at: "2026-11-20T00:00:00Z" });
    expect(statusWhy({ ...base, status: "expired", expiresAt: "2027-01-01T00:00:00Z", idleDays: 30, idleExpiresAt: "2026-11-10T00:00:00Z" }, now)).toEqual({
      reason: "Unused for 30 days",
      at: "2026-11-10T00:00:00Z",
    });
  });
});
