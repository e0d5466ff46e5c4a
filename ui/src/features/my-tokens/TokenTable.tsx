// The token list (TanStack Table: sortable columns, headless so the markup stays ours).
import {
  createColumnHelper,
  flexRender,
  getCoreRowModel,
  getSortedRowModel,
  useReactTable,
  type SortingState,
} from "@tanstack/react-table";
import { useState } from "react";
import { RelativeTime } from "../../components/ui/RelativeTime";
import { HoneytokenBadge, StatusBadge } from "../../components/ui/StatusBadge";
import type { TokenInfo } from "../../bindings/TokenInfo";

const col = createColumnHelper<TokenInfo>();

/** An e-mail address that may wrap after the "@", never inside a word. */
function Email({ value }: { value: string }) {
  const at = value.indexOf("@");
  if (at < 0) return <span>{value}</span>;
  return (
    <span className="creator">
      {value.slice(0, at)}
      <wbr />@{value.slice(at + 1)}
    </span>
  );
}

const STATUS_ORDER = { active: 0, rotating: 1, deactivated: 2, expired: 3, revoked: 4 } as const;
const byDate = (a: string | null, b: string | null) => (a ?? "").localeCompare(b ?? "");

type Props = {
  tokens: TokenInfo[];
  onOpen: (id: number) => void;
  /** Company tokens show who created them. */
  showCreator?: boolean;
  caption?: string;
};

export function TokenTable({ tokens, onOpen, showCreator = false, caption = "Your personal tokens. Choose a name to see details." }: Props) {
  const [sorting, setSorting] = useState<SortingState>([]);
  const columns = [
    col.accessor("name", {
      header: "Name",
      cell: (c) => (
        <>
          <button type="button" className="link-button token-name" onClick={() => onOpen(c.row.original.id)}>
            {c.getValue()}
          </button>
          {c.row.original.honeytoken && <HoneytokenBadge />}
        </>
      ),
    }),
    col.accessor("hint", { header: "Token", cell: (c) => <span className="mono nowrap">{c.getValue()}</span>, enableSorting: false }),
    col.accessor("scopes", {
      header: "Scopes",
      enableSorting: false,
      cell: (c) => (
        <span className="scope-list">
          {c.getValue().length === 0 ? (
            <span className="muted">None</span>
          ) : (
            c.getValue().map((s) => (
              <span key={s} className="scope-chip mono">
                {s}
              </span>
            ))
          )}
        </span>
      ),
    }),
    ...(showCreator
      ? [col.accessor("created_by", { header: "Creator", cell: (c) => <Email value={c.getValue()} /> })]
      : []),
    col.accessor("created_at", { header: "Created", cell: (c) => <RelativeTime value={c.getValue()} />, sortingFn: (a, b) => byDate(a.original.created_at, b.original.created_at) }),
    col.accessor("expires_at", {
      header: "Expires",
      cell: (c) => <RelativeTime value={c.getValue()} empty="No expiry" />,
      sortingFn: (a, b) => byDate(a.original.expires_at ?? "9999", b.original.expires_at ?? "9999"),
    }),
    col.accessor("last_used_at", {
      header: "Last used",
      cell: (c) => <RelativeTime value={c.getValue()} empty="Never used" />,
      sortingFn: (a, b) => byDate(a.original.last_used_at, b.original.last_used_at),
    }),
    col.accessor("status", {
      header: "Status",
      cell: (c) => <StatusBadge status={c.getValue()} />,
      sortingFn: (a, b) => STATUS_ORDER[a.original.status] - STATUS_ORDER[b.original.status],
    }),
  ];

  // eslint-disable-next-line react-hooks/incompatible-library -- no React Compiler here; the table instance is used in this component only
  const table = useReactTable({
    data: tokens,
    columns,
    state: { sorting },
    onSortingChange: setSorting,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
  });

  return (
    <div className="table-wrap">
      <table className="data-table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          {table.getHeaderGroups().map((hg) => (
            <tr key={hg.id}>
              {hg.headers.map((h) => {
                const sorted = h.column.getIsSorted();
                return (
                  <th key={h.id} scope="col" aria-sort={sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : undefined}>
                    {h.column.getCanSort() ? (
                      <button type="button" className="sort-button" onClick={h.column.getToggleSortingHandler()}>
                        {flexRender(h.column.columnDef.header, h.getContext())}
                        <span className="sort-mark" aria-hidden="true">
                          {sorted === "asc" ? "▲" : sorted === "desc" ? "▼" : ""}
                        </span>
                      </button>
                    ) : (
                      flexRender(h.column.columnDef.header, h.getContext())
                    )}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((row) => (
            <tr key={row.id} className="clickable-row" onClick={() => onOpen(row.original.id)} data-token-id={row.original.id}>
              {row.getVisibleCells().map((cell) => (
                <td key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
