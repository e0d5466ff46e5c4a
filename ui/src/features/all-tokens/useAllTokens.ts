import { keepPreviousData, useQueries, useQueryClient } from "@tanstack/react-query";
import * as ipc from "../../lib/ipc";
import type { TokenInfo } from "../../bindings/TokenInfo";
import type { TokenPage } from "../../bindings/TokenPage";
import { PAGE_SIZE, toTokenQuery, type TokenFilters, type TokenOrder } from "../../lib/tokenQuery";

export const allTokensKey = ["all-tokens"] as const;

/**
 * The pages of the filtered, sorted result that the table shows, fetched on demand: page 0
 * always (it carries the total, and keeps showing while a new filter loads), plus the pages
 * covering the rows in view. Rows of other pages are simply not in the DOM.
 */
export function useTokenPages(filters: TokenFilters, sort: TokenOrder, pages: number[]) {
  const base = toTokenQuery(filters, sort, 0);
  const wanted = [0, ...pages.filter((p) => p !== 0)];
  const results = useQueries({
    queries: wanted.map((page) => ({
      queryKey: [...allTokensKey, { ...base, offset: 0 }, page] as const,
      queryFn: () => ipc.listAllTokens({ ...base, offset: page * PAGE_SIZE, limit: PAGE_SIZE }),
      staleTime: 30_000,
      placeholderData: page === 0 ? keepPreviousData : undefined,
    })),
  });
  const first = results[0];
  const byPage = new Map<number, TokenPage>();
  results.forEach((r, i) => {
    if (r.data && !(i === 0 && r.isPlaceholderData)) byPage.set(wanted[i], r.data);
  });
  const row = (index: number): TokenInfo | undefined => byPage.get(Math.floor(index / PAGE_SIZE))?.items[index % PAGE_SIZE];
  return {
    total: first.data?.total,
    /** True while the first page of a new filter is loading and the old one still shows. */
    stale: first.isPlaceholderData,
    pending: first.isPending,
    error: results.find((r) => r.error)?.error ?? null,
    row,
    /** The rows of the pages in view (what "select the rows in view" selects). */
    loadedRows: pages.flatMap((p) => byPage.get(p)?.items ?? []),
  };
}

/** After a status change anywhere, every list and count that might show it is refetched. */
export function useInvalidateTokenLists() {
  const qc = useQueryClient();
  return () => {
    for (const key of [allTokensKey, ["company-tokens"], ["my-tokens"], ["dashboard"], ["token"], ["usage"]]) {
      void qc.invalidateQueries({ queryKey: key });
    }
  };
}
