import { describe, expect, it } from "vitest";
import {
  DAY_MS,
  EXPIRY_PRESETS,
  defaultSelection,
  neverAllowed,
  parseLocalDateTime,
  presetAllowed,
  resolveExpiry,
  toLocalInputValue,
  toRfc3339,
  type ExpiryPolicy,
} from "./expiry";

const policy: ExpiryPolicy = { max_lifetime_days: 365, expiry_required: false, default_lifetime_days: 30 };
const strict: ExpiryPolicy = { max_lifetime_days: 90, expiry_required: true, default_lifetime_days: 30 };
const now = new Date("2026-03-01T12:00:00Z");

describe("expiry presets", () => {
  it("offers 7, 30, 60, 90 days and 1 year", () => {
    expect(EXPIRY_PRESETS.map((p) => p.days)).toEqual([7, 30, 60, 90, 365]);
  });

  it("each preset resolves to now plus its days", () => {
    for (const p of EXPIRY_PRESETS) {
      const r = resolveExpiry({ kind: "days", days: p.days }, policy, now);
      expect(r).toEqual({ ok: true, choice: { type: "days", days: p.days }, expiresAt: new Date(now.getTime() + p.days * DAY_MS) });
    }
  });

  it("a preset beyond the maximum lifetime is refused and not offered", () => {
    expect(presetAllowed(365, strict)).toBe(false);
    expect(presetAllowed(90, strict)).toBe(true);
    const r = resolveExpiry({ kind: "days", days: 365 }, strict, now);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain("90 days");
  });

  it("a maximum of zero means no maximum", () => {
    expect(presetAllowed(365, { ...policy, max_lifetime_days: 0 })).toBe(true);
  });

  it("defaults to 30 days, or the longest allowed preset under a short maximum", () => {
    expect(defaultSelection(policy)).toEqual({ kind: "days", days: 30 });
    expect(defaultSelection({ ...policy, max_lifetime_days: 14 })).toEqual({ kind: "days", days: 7 });
    expect(defaultSelection({ ...policy, max_lifetime_days: 3 })).toEqual({ kind: "days", days: 3 });
  });
});

describe("no expiry", () => {
  it("is allowed only when the policy does not require an expiry", () => {
    expect(neverAllowed(policy)).toBe(true);
    expect(neverAllowed(strict)).toBe(false);
    expect(resolveExpiry({ kind: "never" }, policy, now)).toEqual({ ok: true, choice: { type: "never" }, expiresAt: null });
    expect(resolveExpiry({ kind: "never" }, strict, now).ok).toBe(false);
  });
});

describe("custom date and time", () => {
  it("resolves a local date and time to an RFC 3339 UTC instant", () => {
    const local = toLocalInputValue(new Date(now.getTime() + 10 * DAY_MS));
    const r = resolveExpiry({ kind: "custom", local }, policy, now);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.choice.type).toBe("at");
      if (r.choice.type === "at") expect(r.choice.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00Z$/);
      expect(r.expiresAt?.getTime()).toBe(parseLocalDateTime(local)?.getTime());
    }
  });

  it("refuses the past, empty and malformed input, and dates beyond the maximum", () => {
    expect(resolveExpiry({ kind: "custom", local: "" }, policy, now).ok).toBe(false);
    expect(resolveExpiry({ kind: "custom", local: "not a date" }, policy, now).ok).toBe(false);
    expect(resolveExpiry({ kind: "custom", local: "2026-02-31T10:00" }, policy, now).ok).toBe(false);
    expect(resolveExpiry({ kind: "custom", local: toLocalInputValue(new Date(now.getTime() - DAY_MS)) }, policy, now).ok).toBe(false);
    const tooFar = toLocalInputValue(new Date(now.getTime() + 91 * DAY_MS));
    const r = resolveExpiry({ kind: "custom", local: tooFar }, strict, now);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain("at most 90 days");
  });

  it("accepts a date just inside the maximum", () => {
    const inside = toLocalInputValue(new Date(now.getTime() + 89 * DAY_MS));
    expect(resolveExpiry({ kind: "custom", local: inside }, strict, now).ok).toBe(true);
  });

  it("formats RFC 3339 without fractional seconds", () => {
    expect(toRfc3339(new Date("2026-12-01T09:30:00.123Z"))).toBe("2026-12-01T09:30:00Z");
  });
});
