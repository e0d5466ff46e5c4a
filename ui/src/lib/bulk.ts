// Bulk status changes: split the chosen ids into chunks (the backend takes at most 1000 per
// call; 50 keeps the progress bar moving), run them one after another, and gather one result.
import type { BulkFailure } from "../bindings/BulkFailure";
import type { BulkResult } from "../bindings/BulkResult";
import type { StatusAction } from "../bindings/StatusAction";

export const BULK_CHUNK = 50;

export function chunk<T>(items: readonly T[], size = BULK_CHUNK): T[][] {
  if (size < 1) throw new RangeError("chunk size must be at least 1");
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export type BulkProgress = { processed: number; total: number; done: number; failed: number };

/**
 * Runs `call` for each chunk in order and reports progress after each. A chunk whose call
 * rejects outright (not per-token failures) marks each of its ids failed with that message and
 * the run goes on, so one bad chunk never hides what happened to the others. Stops between
 * chunks when `signal` is aborted; the ids not sent are then neither done nor failed.
 */
export async function runBulk(
  ids: readonly number[],
  action: StatusAction,
  call: (ids: number[], action: StatusAction) => Promise<BulkResult>,
  onProgress: (p: BulkProgress) => void = () => {},
  options: { size?: number; signal?: AbortSignal; errorMessage?: (e: unknown) => string } = {},
): Promise<BulkResult & { notSent: number[] }> {
  const done: number[] = [];
  const failed: BulkFailure[] = [];
  const chunks = chunk(ids, options.size ?? BULK_CHUNK);
  const message = options.errorMessage ?? ((e: unknown) => (e instanceof Error ? e.message : String(e)));
  let processed = 0;
  let index = 0;
  for (; index < chunks.length; index++) {
    if (options.signal?.aborted) break;
    const part = chunks[index];
    try {
      const r = await call(part, action);
      done.push(...r.done);
      failed.push(...r.failed);
    } catch (e) {
      const why = message(e);
      failed.push(...part.map((id) => ({ id, message: why })));
    }
    processed += part.length;
    onProgress({ processed, total: ids.length, done: done.length, failed: failed.length });
  }
  return { done, failed, notSent: chunks.slice(index).flat() };
}

/** Groups failures by message: "3 tokens: A revoked token cannot change status." reads better than 3 rows. */
export function summariseFailures(failed: readonly BulkFailure[]): { message: string; ids: number[] }[] {
  const by = new Map<string, number[]>();
  for (const f of failed) by.set(f.message, [...(by.get(f.message) ?? []), f.id]);
  return [...by.entries()].map(([message, ids]) => ({ message, ids })).sort((a, b) => b.ids.length - a.ids.length);
}
