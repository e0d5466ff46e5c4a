// All tokens (admin: everyone's; vrm_admin: company tokens and their own): server-side filters,
// sort and paging behind a virtualised table, bulk deactivate / revoke, details on click.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useCallback, useState } from "react";
import { ErrorBanner } from "../../components/ui/ErrorBanner";
import { useDebounced } from "../../components/ui/useDebounced";
import type { Role } from "../../bindings/Role";
import type { StatusAction } from "../../bindings/StatusAction";
import type { TokenInfo } from "../../bindings/TokenInfo";
import * as ipc from "../../lib/ipc";
import { activeFilterCount, nextSort, toTokenQuery, type TokenFilters, type TokenOrder } from "../../lib/tokenQuery";

/** "Select all matching" fetches every matching id first; beyond this, narrow the filters. */
export const SELECT_ALL_MAX = 5_000;
import { TokenDetailsPanel } from "../my-tokens/TokenDetailsPanel";
import { BulkStatusDialog } from "./BulkStatusDialog";
import { TokenFiltersBar } from "./TokenFiltersBar";
import { useInvalidateTokenLists, useTokenPages } from "./useAllTokens";
import { VirtualTokenTable } from "./VirtualTokenTable";

type Props = { role: Role; initial: { filters: TokenFilters; sort: TokenOrder } };

export function AllTokensPage({ role, initial }: Props) {
  const [filters, setFilters] = useState(initial.filters);
  const [sort, setSort] = useState(initial.sort);
  const applied = useDebounced(filters, 300);
  const [pages, setPages] = useState<number[]>([0]);
  const data = useTokenPages(applied, sort, pages);
  const scopes = useQuery({ queryKey: ["scopes"], queryFn: ipc.listScopes, staleTime: 60_000 });
  const invalidate = useInvalidateTokenLists();
  const resetKey = JSON.stringify([applied, sort]);

  // The selection belongs to one filter and sort: changing either clears it, so a bulk action
  // never touches rows the person can no longer see.
  const [selection, setSelection] = useState<{ key: string; ids: ReadonlySet<number>; names: ReadonlyMap<number, string> }>({
    key: resetKey,
    ids: new Set(),
    names: new Map(),
  });
  const selected = selection.key === resetKey ? selection.ids : new Set<number>();
  const names = selection.key === resetKey ? selection.names : new Map<number, string>();
  const [bulk, setBulk] = useState<Exclude<StatusAction, "activate"> | null>(null);
  const [openId, setOpenId] = useState<number | null>(null);

  const select = (ids: number[], on: boolean) => {
    const next = new Set(selected);
    const nextNames = new Map(names);
    const byId = new Map<number, TokenInfo>(data.loadedRows.map((t) => [t.id, t]));
    for (const id of ids) {
      if (on) {
        next.add(id);
        nextNames.set(id, byId.get(id)?.name ?? `#${id}`);
      } else {
        next.delete(id);
        nextNames.delete(id);
      }
    }
    setSelection({ key: resetKey, ids: next, names: nextNames });
  };
  const clearSelection = () => setSelection({ key: resetKey, ids: new Set(), names: new Map() });
  const onVisiblePages = useCallback((p: number[]) => setPages((old) => (old.join() === p.join() ? old : p)), []);

  const total = data.total;
  const selectAll = useMutation({
    mutationFn: async ({ key, count }: { key: string; count: number }) => {
      const ids = new Set<number>();
      const found = new Map<number, string>();
      for (let offset = 0; offset < count; offset += 1000) {
        const page = await ipc.listAllTokens(toTokenQuery(applied, sort, offset, 1000));
        for (const t of page.items) {
          if (t.status === "revoked") continue;
          ids.add(t.id);
          found.set(t.id, t.name);
        }
        if (page.items.length < 1000) break;
      }
      return { key, ids, names: found };
    },
    onSuccess: (r) => setSelection(r),
  });
  const filterCount = activeFilterCount(applied);
  return (
    <div className="fill-column">
      <div className="page-header">
        <h1>All tokens</h1>
        <p className="muted page-subtitle">
          {role === "admin" ? "Every token in the company." : "Company tokens and your own."} Expired and revoked tokens stay listed with when and why.
        </p>
      </div>
      <TokenFiltersBar value={filters} onChange={setFilters} scopes={scopes.data ?? []} showOwner />
      <div className="table-toolbar">
        <p className="result-count" aria-live="polite">
          {total === undefined ? "Loading…" : `${total.toLocaleString()} ${total === 1 ? "token" : "tokens"}${filterCount ? " match" : ""}`}
          {data.stale && <span className="muted"> (updating…)</span>}
        </p>
        {total !== undefined && total > 0 && total <= SELECT_ALL_MAX && selected.size < total && (
          <button type="button" className="btn small" onClick={() => selectAll.mutate({ key: resetKey, count: total })} disabled={selectAll.isPending}>
            {selectAll.isPending ? "Selecting…" : `Select all ${total.toLocaleString()} matching`}
          </button>
        )}
        {selected.size > 0 && (
          <div className="bulk-bar" role="group" aria-label="Bulk actions">
            <strong>{selected.size.toLocaleString()} selected</strong>
            <button type="button" className="btn small" onClick={() => setBulk("deactivate")}>
              Deactivate…
            </button>
            <button type="button" className="btn small danger" onClick={() => setBulk("revoke")}>
              Revoke…
            </button>
            <button type="button" className="btn small" onClick={clearSelection}>
              Clear selection
            </button>
          </div>
        )}
      </div>
      <ErrorBanner error={data.error ?? selectAll.error} />
      {total === 0 ? (
        <div className="empty-state card">
          <h2>No tokens match</h2>
          <p>{filterCount ? "Loosen or clear the filters to see more." : "Nobody has created a token yet."}</p>
        </div>
      ) : (
        <VirtualTokenTable
          total={total ?? 0}
          row={data.row}
          sort={sort}
          onSort={(key) => setSort((s) => nextSort(s, key))}
          selected={selected}
          onSelect={select}
          inView={data.loadedRows}
          onVisiblePages={onVisiblePages}
          onOpen={setOpenId}
          resetKey={resetKey}
          busy={data.stale || data.pending}
        />
      )}
      {bulk && (
        <BulkStatusDialog
          action={bulk}
          ids={[...selected]}
          names={(id) => names.get(id)}
          onClose={(changed) => {
            setBulk(null);
            if (changed) {
              clearSelection();
              invalidate();
            }
          }}
        />
      )}
      <TokenDetailsPanel id={openId} onClose={() => setOpenId(null)} />
    </div>
  );
}
