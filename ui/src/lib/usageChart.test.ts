import { describe, expect, it } from "vitest";
import { buildChart, formatDay, isQueryParam, niceMax, splitOutcome } from "./usageChart";

const series = (counts: [number, number][]) =>
  counts.map(([accepted, refused], i) => ({ day: `2026-11-${String(i + 1).padStart(2, "0")}`, accepted, refused }));

describe("niceMax", () => {
  it("rounds the peak up to a readable axis top", () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(7)).toBe(8);
    expect(niceMax(13)).toBe(15);
    expect(niceMax(240)).toBe(250);
    expect(niceMax(1234)).toBe(1500);
  });
});

describe("buildChart", () => {
  it("stacks refused on top of accepted and scales to the axis top", () => {
    const m = buildChart(series([[6, 2], [0, 0], [3, 0]]), 300, 100);
    expect(m.max).toBe(8);
    expect(m.totalAccepted).toBe(9);
    expect(m.totalRefused).toBe(2);
    const [a, empty] = m.bars;
    expect(a.acceptedHeight).toBeCloseTo(75);
    expect(a.acceptedY).toBeCloseTo(25);
    expect(a.refusedHeight).toBeCloseTo(25);
    expect(a.refusedY).toBeCloseTo(0);
    expect(empty.acceptedHeight).toBe(0);
    expect(m.bars[2].x).toBeGreaterThan(m.bars[1].x);
    expect(m.bars.every((b) => b.x + b.width <= 300)).toBe(true);
  });

  it("labels at most a handful of days, always including the last", () => {
    const m = buildChart(series(Array.from({ length: 90 }, () => [1, 0])), 900, 100, 8);
    expect(m.labelled.length).toBeLessThanOrEqual(8);
    expect(m.labelled.at(-1)).toBe(89);
    expect(buildChart(series([[1, 0]]), 100, 100).labelled).toEqual([0]);
  });

  it("copes with no data at all", () => {
    const m = buildChart([], 300, 100);
    expect(m.bars).toEqual([]);
    expect(m.max).toBe(1);
  });
});

describe("formatDay", () => {
  it("shows a UTC day as day and month", () => {
    expect(formatDay("2026-11-03", "en-GB")).toBe("3 Nov");
    expect(formatDay("nonsense", "en-GB")).toBe("nonsense");
  });
});

describe("recent requests", () => {
  it("split the outcome from its reason", () => {
    expect(splitOutcome("refused: network not allowed")).toEqual(["refused", "network not allowed"]);
    expect(splitOutcome("accepted")).toEqual(["accepted", ""]);
  });

  it("flag tokens presented in the URL query", () => {
    expect(isQueryParam("query")).toBe(true);
    expect(isQueryParam("bearer")).toBe(false);
  });
});
