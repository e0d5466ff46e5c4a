// The audit log's filters as typed (local date-times from <input type="datetime-local">) and
// the AuditQuery the backend gets (RFC 3339 UTC, blank means any).
import type { AuditEntry } from "../bindings/AuditEntry";
import type { AuditQuery } from "../bindings/AuditQuery";

export type AuditFilters = { actor: string; action: string; target: string; since: string; until: string };

export const EMPTY_AUDIT_FILTERS: AuditFilters = { actor: "", action: "", target: "", since: "", until: "" };

export const AUDIT_PAGE = 200;

/** "2026-11-23T10:30" in the local zone -> "2026-11-23T09:30:00Z"; blank or invalid -> null. */
export function localToRfc3339(local: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(local.trim())) return null;
  const d = new Date(local.trim());
  return Number.isNaN(d.getTime()) ? null : d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function toAuditQuery(filters: AuditFilters, beforeId: number | null = null, limit = AUDIT_PAGE): AuditQuery {
  const text = (s: string) => (s.trim() === "" ? null : s.trim());
  return {
    actor: text(filters.actor),
    action: text(filters.action),
    target: text(filters.target),
    since: localToRfc3339(filters.since),
    until: localToRfc3339(filters.until),
    beforeId,
    limit,
  };
}

/** "since is after until" and friends, or null. */
export function auditFiltersError(filters: AuditFilters): string | null {
  const since = localToRfc3339(filters.since);
  const until = localToRfc3339(filters.until);
  if (since && until && since >= until) return "“Since” must be before “until”.";
  return null;
}

/** An entry's details, `{role: "admin", from: "user"}` -> "role: admin, from: user"; none -> "". */
export function formatDetails(details: AuditEntry["details"]): string {
  if (!details) return "";
  return Object.entries(details)
    .map(([k, x]) => `${k}: ${typeof x === "string" ? x : Array.isArray(x) ? x.join(" ") : JSON.stringify(x)}`)
    .join(", ");
}
