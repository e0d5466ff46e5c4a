import { describe, expect, it } from "vitest";
import {
  DEFAULT_SORT,
  EMPTY_FILTERS,
  activeFilterCount,
  dashboardView,
  daysError,
  nextSort,
  pagesFor,
  parseDays,
  toTokenQuery,
} from "./tokenQuery";

describe("toTokenQuery", () => {
  it("sends nulls and false for empty filters, with the sort and page", () => {
    expect(toTokenQuery(EMPTY_FILTERS, DEFAULT_SORT, 200, 100)).toEqual({
      owner: null,
      kind: null,
      status: null,
      scope: null,
      text: null,
      expiringWithinDays: null,
      unusedForDays: null,
      neverUsed: false,
      presentedInQuery: false,
      sort: "created",
      descending: true,
      offset: 200,
      limit: 100,
    });
  });

  it("trims text and parses whole days, dropping what is not a number", () => {
    const q = toTokenQuery(
      { ...EMPTY_FILTERS, owner: "  ada@acme.example ", text: " deploy ", kind: "company", status: "revoked", scope: "verify", expiringWithinDays: "7", unusedForDays: "abc", neverUsed: true },
      { key: "name", descending: false },
      0,
    );
    expect(q).toMatchObject({ owner: "ada@acme.example", text: "deploy", kind: "company", status: "revoked", scope: "verify", expiringWithinDays: 7, unusedForDays: null, neverUsed: true, sort: "name", descending: false });
  });

  it("keeps the page size within what the backend accepts", () => {
    expect(toTokenQuery(EMPTY_FILTERS, DEFAULT_SORT, -5, 5000)).toMatchObject({ offset: 0, limit: 1000 });
    expect(toTokenQuery(EMPTY_FILTERS, DEFAULT_SORT, 0, 0).limit).toBe(1);
  });
});

describe("days fields", () => {
  it("accept whole positive numbers only", () => {
    expect(parseDays("30")).toBe(30);
    expect(parseDays(" 7 ")).toBe(7);
    for (const bad of ["", "0", "-1", "2.5", "1e3", "seven"]) expect(parseDays(bad)).toBeNull();
    expect(parseDays("999999")).toBe(36_500);
  });

  it("explain a bad value but not a blank one", () => {
    expect(daysError("")).toBeNull();
    expect(daysError("14")).toBeNull();
    expect(daysError("x")).toMatch(/whole number/);
  });
});

describe("sorting by column header", () => {
  it("flips the direction of the current column and starts dates newest first", () => {
    expect(nextSort({ key: "name", descending: false }, "name")).toEqual({ key: "name", descending: true });
    expect(nextSort({ key: "name", descending: false }, "lastUsed")).toEqual({ key: "lastUsed", descending: true });
    expect(nextSort({ key: "created", descending: true }, "owner")).toEqual({ key: "owner", descending: false });
  });
});

describe("pagesFor", () => {
  it("lists the pages a visible row range needs", () => {
    expect(pagesFor(0, 20)).toEqual([0]);
    expect(pagesFor(95, 130)).toEqual([0, 1]);
    expect(pagesFor(99_950, 99_999)).toEqual([999]);
    expect(pagesFor(5, 4)).toEqual([]);
  });
});

describe("dashboard cards", () => {
  it("open All tokens with the filter behind their number", () => {
    expect(dashboardView("expiring_7_days").filters.expiringWithinDays).toBe("7");
    expect(dashboardView("never_used").filters).toMatchObject({ neverUsed: true, status: "active" });
    expect(dashboardView("unused_30_days").filters).toMatchObject({ unusedForDays: "30", status: "active" });
    expect(dashboardView("presented_in_query").filters.presentedInQuery).toBe(true);
    expect(activeFilterCount(dashboardView("active").filters)).toBe(1);
    expect(activeFilterCount(EMPTY_FILTERS)).toBe(0);
  });
});
