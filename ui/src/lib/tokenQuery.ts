// The All tokens screen's filters as the person types them, and the TokenQuery the backend
// gets: trimmed text, whole numbers only, empty means "any". Also the filter each dashboard
// card opens All tokens with, so a card's number and the list it leads to always agree.
import type { Dashboard } from "../bindings/Dashboard";
import type { TokenKind } from "../bindings/TokenKind";
import type { TokenQuery } from "../bindings/TokenQuery";
import type { TokenSort } from "../bindings/TokenSort";
import type { TokenStatus } from "../bindings/TokenStatus";

export type TokenFilters = {
  owner: string;
  kind: TokenKind | "";
  status: TokenStatus | "";
  scope: string;
  text: string;
  /** Whole days as typed; blank or invalid means no filter. */
  expiringWithinDays: string;
  unusedForDays: string;
  neverUsed: boolean;
  presentedInQuery: boolean;
};

/** The column the All tokens table is sorted by (the backend's `TokenSort`) and its direction. */
export type TokenOrder = { key: TokenSort; descending: boolean };

export const EMPTY_FILTERS: TokenFilters = {
  owner: "",
  kind: "",
  status: "",
  scope: "",
  text: "",
  expiringWithinDays: "",
  unusedForDays: "",
  neverUsed: false,
  presentedInQuery: false,
};

export const DEFAULT_SORT: TokenOrder = { key: "created", descending: true };

/** Rows per request: the virtualised table asks for the pages it shows. */
export const PAGE_SIZE = 100;

/** "30" -> 30; "", "abc", "-1", "2.5" -> null (no filter); caps absurd values at 100 years. */
export function parseDays(text: string): number | null {
  const t = text.trim();
  if (!/^\d{1,6}$/.test(t)) return null;
  const n = Number(t);
  return n >= 1 ? Math.min(n, 36_500) : null;
}

/** A number-of-days field's error for the person, or null when blank or valid. */
export function daysError(text: string): string | null {
  return text.trim() === "" || parseDays(text) !== null ? null : "Enter a whole number of days, at least 1.";
}

const blankToNull = (s: string) => (s.trim() === "" ? null : s.trim());

export function toTokenQuery(filters: TokenFilters, sort: TokenOrder, offset: number, limit = PAGE_SIZE): TokenQuery {
  return {
    owner: blankToNull(filters.owner),
    kind: filters.kind || null,
    status: filters.status || null,
    scope: blankToNull(filters.scope),
    text: blankToNull(filters.text),
    expiringWithinDays: parseDays(filters.expiringWithinDays),
    unusedForDays: parseDays(filters.unusedForDays),
    neverUsed: filters.neverUsed,
    presentedInQuery: filters.presentedInQuery,
    sort: sort.key,
    descending: sort.descending,
    offset: Math.max(0, Math.floor(offset)),
    limit: Math.min(1000, Math.max(1, Math.floor(limit))),
  };
}

/** How many filters are in effect (for the "Clear filters" button and the summary). */
export function activeFilterCount(filters: TokenFilters): number {
  const q = toTokenQuery(filters, DEFAULT_SORT, 0);
  return [q.owner, q.kind, q.status, q.scope, q.text, q.expiringWithinDays, q.unusedForDays].filter((v) => v !== null).length +
    (q.neverUsed ? 1 : 0) +
    (q.presentedInQuery ? 1 : 0);
}

/** Clicking a sorted column flips its direction; a new column starts with its natural order. */
export function nextSort(current: TokenOrder, key: TokenSort): TokenOrder {
  if (current.key === key) return { key, descending: !current.descending };
  // Dates and counts read best newest / largest first; names and kinds A to Z.
  const descendingFirst: readonly TokenSort[] = ["created", "lastUsed", "uses", "id"];
  return { key, descending: descendingFirst.includes(key) };
}

/** The page indices covering rows [start, end] (inclusive), for a table that shows those rows. */
export function pagesFor(start: number, end: number, pageSize = PAGE_SIZE): number[] {
  if (end < start || end < 0) return [];
  const first = Math.floor(Math.max(0, start) / pageSize);
  const last = Math.floor(end / pageSize);
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/** A dashboard card: one of the backend's dashboard counts (all but the dropped usage events). */
export type DashboardCard = Exclude<keyof Dashboard, "usage_dropped" | "honeytoken_alerts" | "new_source_tokens" | "new_sources">;

/**
 * The All tokens view a dashboard card opens. These mirror the backend's dashboard counts
 * (tessera-core `reports::dashboard`): never used, unused and active are counted among active
 * tokens only. Refused attempts have no token filter, so that card lists active tokens by
 * most recent use, where refused tokens surface with their refused counts.
 */
export function dashboardView(card: DashboardCard): { filters: TokenFilters; sort: TokenOrder } {
  const f = (patch: Partial<TokenFilters>) => ({ ...EMPTY_FILTERS, ...patch });
  switch (card) {
    case "expiring_7_days":
      return { filters: f({ expiringWithinDays: "7" }), sort: { key: "expires", descending: false } };
    case "expiring_30_days":
      return { filters: f({ expiringWithinDays: "30" }), sort: { key: "expires", descending: false } };
    case "never_used":
      return { filters: f({ status: "active", neverUsed: true }), sort: { key: "created", descending: false } };
    case "unused_30_days":
      return { filters: f({ status: "active", unusedForDays: "30" }), sort: { key: "lastUsed", descending: false } };
    case "refused_24_hours":
      return { filters: f({ status: "active" }), sort: { key: "lastUsed", descending: true } };
    case "presented_in_query":
      return { filters: f({ presentedInQuery: true }), sort: { key: "lastUsed", descending: true } };
    case "active":
      return { filters: f({ status: "active" }), sort: DEFAULT_SORT };
  }
}
