import { describe, expect, it } from "vitest";
import { formatExact, formatRelative, parseDate } from "./dates";

const now = new Date("2026-03-01T12:00:00Z");
const at = (deltaSeconds: number) => new Date(now.getTime() + deltaSeconds * 1000);

describe("relative dates", () => {
  it.each([
    [-10, "now"],
    [-120, "2 minutes ago"],
    [-3 * 3600, "3 hours ago"],
    [-86_400, "yesterday"],
    [-3 * 86_400, "3 days ago"],
    [-14 * 86_400, "14 days ago"],
    [-90 * 86_400, "3 months ago"],
    [-800 * 86_400, "2 years ago"],
    [30 * 86_400, "in 30 days"],
    [1 * 86_400, "tomorrow"],
    [5 * 86_400, "in 5 days"],
    [2 * 3600, "in 2 hours"],
  ])("%i seconds reads as %s", (delta, text) => {
    expect(formatRelative(at(delta), now, "en")).toBe(text);
  });

  it("formats the exact date with the time zone", () => {
    expect(formatExact(now, "en-GB")).toMatch(/1 March 2026/);
  });

  it("parses RFC 3339 and rejects garbage", () => {
    expect(parseDate("2026-03-01T12:00:00Z")?.getTime()).toBe(now.getTime());
    expect(parseDate("nope")).toBeNull();
    expect(parseDate(null)).toBeNull();
  });
});

describe("formatRelative, short style", () => {
  it("abbreviates units for narrow table columns", () => {
    const now = new Date("2026-11-23T12:00:00Z");
    expect(formatRelative(new Date("2025-11-20T12:00:00Z"), now, "en-GB", "short")).toBe("last yr");
    expect(formatRelative(new Date("2026-01-23T12:00:00Z"), now, "en-GB", "short")).toMatch(/^10 mo(nths|\.)? ago$/);
    expect(formatRelative(new Date("2026-11-23T09:00:00Z"), now, "en-GB", "short")).toBe("3 hr ago");
  });
});
