import { describe, expect, it } from "vitest";
import type { BulkResult } from "../bindings/BulkResult";
import type { StatusAction } from "../bindings/StatusAction";
import { chunk, runBulk, summariseFailures } from "./bulk";

describe("chunk", () => {
  it("splits into chunks of 50 with the remainder last", () => {
    const ids = Array.from({ length: 120 }, (_, i) => i + 1);
    const parts = chunk(ids);
    expect(parts.map((p) => p.length)).toEqual([50, 50, 20]);
    expect(parts.flat()).toEqual(ids);
    expect(chunk([])).toEqual([]);
    expect(() => chunk([1], 0)).toThrow();
  });
});

describe("runBulk", () => {
  it("sends chunks in order, reports progress after each and gathers the result", async () => {
    const sent: number[][] = [];
    const call = async (ids: number[], action: StatusAction): Promise<BulkResult> => {
      sent.push(ids);
      expect(action).toBe("revoke");
      return { done: ids.filter((id) => id % 10 !== 0), failed: ids.filter((id) => id % 10 === 0).map((id) => ({ id, message: "A revoked token cannot change status." })) };
    };
    const progress: number[] = [];
    const ids = Array.from({ length: 120 }, (_, i) => i + 1);
    const r = await runBulk(ids, "revoke", call, (p) => progress.push(p.processed));
    expect(sent.map((s) => s.length)).toEqual([50, 50, 20]);
    expect(progress).toEqual([50, 100, 120]);
    expect(r.done).toHaveLength(108);
    expect(r.failed).toHaveLength(12);
    expect(r.notSent).toEqual([]);
  });

  it("marks a whole chunk failed when its call rejects, and carries on", async () => {
    let n = 0;
    const call = async (ids: number[]): Promise<BulkResult> => {
      n += 1;
      if (n === 1) throw new Error("database is locked");
      return { done: ids, failed: [] };
    };
    const r = await runBulk([1, 2, 3], "deactivate", call, undefined, { size: 2 });
    expect(r.failed).toEqual([
      { id: 1, message: "database is locked" },
      { id: 2, message: "database is locked" },
    ]);
    expect(r.done).toEqual([3]);
  });

  it("stops between chunks when aborted and says what was not sent", async () => {
    const controller = new AbortController();
    const call = async (ids: number[]): Promise<BulkResult> => {
      controller.abort();
      return { done: ids, failed: [] };
    };
    const r = await runBulk([1, 2, 3, 4, 5], "revoke", call, undefined, { size: 2, signal: controller.signal });
    expect(r.done).toEqual([1, 2]);
    expect(r.notSent).toEqual([3, 4, 5]);
  });
});

describe("summariseFailures", () => {
  it("groups failures by message, largest group first", () => {
    expect(
      summariseFailures([
        { id: 1, message: "a" },
        { id: 2, message: "b" },
        { id: 3, message: "b" },
      ]),
    ).toEqual([
      { message: "b", ids: [2, 3] },
      { message: "a", ids: [1] },
    ]);
  });
});
