import { describe, expect, it } from "vitest";
import { EMPTY_AUDIT_FILTERS, auditFiltersError, localToRfc3339, toAuditQuery } from "./auditQuery";

describe("audit query", () => {
  it("sends blank filters as null with the page size", () => {
    expect(toAuditQuery(EMPTY_AUDIT_FILTERS)).toEqual({ actor: null, action: null, target: null, since: null, until: null, beforeId: null, limit: 200 });
  });

  it("converts local date-times to RFC 3339 UTC and pages back by id", () => {
    const q = toAuditQuery({ ...EMPTY_AUDIT_FILTERS, actor: " ada@acme.example ", since: "2026-11-01T10:00" }, 4711);
    expect(q.actor).toBe("ada@acme.example");
    expect(q.since).toBe(new Date("2026-11-01T10:00").toISOString().replace(/\.\d{3}Z$/, "Z"));
    expect(q.beforeId).toBe(4711);
    expect(localToRfc3339("yesterday")).toBeNull();
  });

  it("refuses a window that ends before it starts", () => {
    expect(auditFiltersError({ ...EMPTY_AUDIT_FILTERS, since: "2026-11-02T00:00", until: "2026-11-01T00:00" })).toMatch(/before/);
    expect(auditFiltersError({ ...EMPTY_AUDIT_FILTERS, since: "2026-11-01T00:00" })).toBeNull();
  });
});
