// Expiry picker maths: which choices the policy allows, what date each one resolves to, and
// the ExpiryChoice sent to the backend. Pure functions of (selection, policy, now).
import type { ExpiryChoice } from "../bindings/ExpiryChoice";
import type { Policy } from "../bindings/Policy";

export const DAY_MS = 86_400_000;

export type ExpiryPreset = { days: number; label: string };

export const EXPIRY_PRESETS: readonly ExpiryPreset[] = [
  { days: 7, label: "7 days" },
  { days: 30, label: "30 days" },
  { days: 60, label: "60 days" },
  { days: 90, label: "90 days" },
  { days: 365, label: "1 year" },
];

/** What the user picked. `local` is an `<input type="datetime-local">` value in local time. */
export type ExpirySelection =
  | { kind: "days"; days: number }
  | { kind: "custom"; local: string }
  | { kind: "never" };

export type ExpiryPolicy = Pick<Policy, "max_lifetime_days" | "expiry_required" | "default_lifetime_days">;

export type ResolvedExpiry =
  | { ok: true; choice: ExpiryChoice; expiresAt: Date | null }
  | { ok: false; error: string };

/** A policy maximum of 0 or less means "no maximum". */
export function hasMaxLifetime(policy: ExpiryPolicy): boolean {
  return policy.max_lifetime_days > 0;
}

export function presetAllowed(days: number, policy: ExpiryPolicy): boolean {
  return days > 0 && (!hasMaxLifetime(policy) || days <= policy.max_lifetime_days);
}

/** "No expiry" is offered only when the policy does not require one. */
export function neverAllowed(policy: ExpiryPolicy): boolean {
  return !policy.expiry_required;
}

/** 30 days when allowed, else the longest allowed preset, else the policy's maximum. */
export function defaultSelection(policy: ExpiryPolicy): ExpirySelection {
  if (presetAllowed(30, policy)) return { kind: "days", days: 30 };
  const allowed = EXPIRY_PRESETS.filter((p) => presetAllowed(p.days, policy));
  if (allowed.length > 0) return { kind: "days", days: allowed[allowed.length - 1].days };
  return { kind: "days", days: Math.max(1, policy.max_lifetime_days) };
}

/** Parses a datetime-local value ("2026-12-01T10:30" or with seconds) as local time. */
export function parseLocalDateTime(local: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m;
  const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), s ? Number(s) : 0);
  // Reject roll-overs such as 2026-02-31.
  if (date.getFullYear() !== Number(y) || date.getMonth() !== Number(mo) - 1 || date.getDate() !== Number(d)) return null;
  return date;
}

/** A Date as a datetime-local input value (local time, minute precision). */
export function toLocalInputValue(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** RFC 3339 in UTC without fractional seconds, e.g. 2026-12-01T09:30:00Z. */
export function toRfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function resolveExpiry(selection: ExpirySelection, policy: ExpiryPolicy, now: Date): ResolvedExpiry {
  const max = hasMaxLifetime(policy) ? policy.max_lifetime_days : null;
  switch (selection.kind) {
    case "never":
      if (!neverAllowed(policy)) return { ok: false, error: "Policy requires an expiry date." };
      return { ok: true, choice: { type: "never" }, expiresAt: null };
    case "days": {
      if (!Number.isInteger(selection.days) || selection.days < 1) {
        return { ok: false, error: "Choose at least 1 day." };
      }
      if (max !== null && selection.days > max) {
        return { ok: false, error: `Policy allows at most ${max} days.` };
      }
      return {
        ok: true,
        choice: { type: "days", days: selection.days },
        expiresAt: new Date(now.getTime() + selection.days * DAY_MS),
      };
    }
    case "custom": {
      if (selection.local.trim() === "") return { ok: false, error: "Choose a date and time." };
      const at = parseLocalDateTime(selection.local);
      if (!at) return { ok: false, error: "Enter a valid date and time." };
      if (at.getTime() <= now.getTime() + 60_000) return { ok: false, error: "Choose a time in the future." };
      if (max !== null && at.getTime() > now.getTime() + max * DAY_MS) {
        return { ok: false, error: `Policy allows at most ${max} days (until ${latestAllowed(policy, now)?.toLocaleString()}).` };
      }
      return { ok: true, choice: { type: "at", at: toRfc3339(at) }, expiresAt: at };
    }
  }
}

/** The latest expiry the policy allows from now, or null without a maximum. */
export function latestAllowed(policy: ExpiryPolicy, now: Date): Date | null {
  return hasMaxLifetime(policy) ? new Date(now.getTime() + policy.max_lifetime_days * DAY_MS) : null;
}
