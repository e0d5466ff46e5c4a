// The All tokens table: a virtualised ARIA table (only the rows in view, plus a few, are in the
// DOM), sortable on the server by clicking any sortable header, with a checkbox per row and a
// "select the rows in view" checkbox. Rows not fetched yet show a placeholder.
import { HoneytokenBadge } from "../../components/ui/StatusBadge";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useRef, type ReactNode } from "react";
import { RelativeTime } from "../../components/ui/RelativeTime";
import { StatusBadge } from "../../components/ui/StatusBadge";
import type { TokenInfo } from "../../bindings/TokenInfo";
import type { TokenKind } from "../../bindings/TokenKind";
import type { TokenSort } from "../../bindings/TokenSort";
import { formatExact, parseDate } from "../../lib/dates";
import { pagesFor, type TokenOrder } from "../../lib/tokenQuery";
import { statusWhy } from "../../lib/tokenStatus";

export const ROW_HEIGHT = 52;

export const KIND_LABELS: Record<TokenKind, string> = { user: "User API", personal: "Personal", company: "Company", access: "OAuth access" };

type Column = { id: string; label: string; sort?: TokenSort; className?: string };
const COLUMNS: Column[] = [
  { id: "name", label: "Name", sort: "name" },
  { id: "kind", label: "Kind", sort: "kind" },
  { id: "owner", label: "Owner", sort: "owner" },
  { id: "scopes", label: "Scopes" },
  { id: "status", label: "Status", sort: "status" },
  { id: "created", label: "Created", sort: "created" },
  { id: "expires", label: "Expires", sort: "expires" },
  { id: "lastUsed", label: "Last used", sort: "lastUsed" },
  { id: "uses", label: "Uses", sort: "uses", className: "num" },
];

type Props = {
  total: number;
  row: (index: number) => TokenInfo | undefined;
  sort: TokenOrder;
  onSort: (key: TokenSort) => void;
  selected: ReadonlySet<number>;
  onSelect: (ids: number[], on: boolean) => void;
  /** Rows currently fetched around the view, for "select the rows in view". */
  inView: TokenInfo[];
  onVisiblePages: (pages: number[]) => void;
  onOpen: (id: number) => void;
  resetKey: string;
  busy: boolean;
};

export function VirtualTokenTable({ total, row, sort, onSort, selected, onSelect, inView, onVisiblePages, onOpen, resetKey, busy }: Props) {
  const scrollRef = useRef<HTMLDivElement>(null);
  // eslint-disable-next-line react-hooks/incompatible-library -- no React Compiler here; the virtualizer is used in this component only
  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items.at(-1)?.index ?? -1;
  const pagesKey = pagesFor(first, last).join(",");

  useEffect(() => {
    onVisiblePages(pagesKey ? pagesKey.split(",").map(Number) : []);
  }, [pagesKey, onVisiblePages]);

  // A new filter or sort starts at the top.
  useEffect(() => {
    virtualizer.scrollToOffset(0);
  }, [resetKey, virtualizer]);

  const selectable = inView.filter((t) => t.status !== "revoked");
  const allInView = selectable.length > 0 && selectable.every((t) => selected.has(t.id));
  const someInView = selectable.some((t) => selected.has(t.id));

  return (
    <div
      className="vt"
      role="table"
      aria-label="All tokens"
      aria-rowcount={total + 1}
      aria-colcount={COLUMNS.length + 1}
      aria-busy={busy || undefined}
    >
      <div ref={scrollRef} className="vt-scroll" tabIndex={0}>
        <div className="vt-row vt-head" role="row" aria-rowindex={1}>
          <div className="vt-cell vt-check" role="columnheader">
            <input
              type="checkbox"
              aria-label="Select the rows in view"
              checked={allInView}
              ref={(el) => {
                if (el) el.indeterminate = !allInView && someInView;
              }}
              onChange={(e) => onSelect(selectable.map((t) => t.id), e.target.checked)}
              disabled={selectable.length === 0}
            />
          </div>
          {COLUMNS.map((c) => {
            const active = c.sort === sort.key;
            return (
              <div
                key={c.id}
                className={`vt-cell ${c.className ?? ""}`}
                role="columnheader"
                aria-sort={active ? (sort.descending ? "descending" : "ascending") : c.sort ? "none" : undefined}
              >
                {c.sort ? (
                  <button type="button" className="sort-button" onClick={() => c.sort && onSort(c.sort)}>
                    {c.label}
                    <span className="sort-mark" aria-hidden="true">
                      {active ? (sort.descending ? "▼" : "▲") : ""}
                    </span>
                  </button>
                ) : (
                  c.label
                )}
              </div>
            );
          })}
        </div>
        <div className="vt-body" ref={(el) => el?.style.setProperty("height", `${virtualizer.getTotalSize()}px`)}>
          {items.map((item) => {
            const t = row(item.index);
            return (
              <div
                key={item.key}
                className={`vt-row ${t && selected.has(t.id) ? "selected" : ""} ${t ? "clickable-row" : "placeholder"}`}
                role="row"
                aria-rowindex={item.index + 2}
                data-index={item.index}
                data-token-id={t?.id}
                ref={(el) => el?.style.setProperty("transform", `translateY(${item.start}px)`)}
                onClick={t ? () => onOpen(t.id) : undefined}
              >
                {t ? <Cells t={t} checked={selected.has(t.id)} onCheck={(on) => onSelect([t.id], on)} onOpen={onOpen} /> : <Placeholder />}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

function Placeholder() {
  return (
    <>
      <div className="vt-cell vt-check" role="cell" />
      <div className="vt-cell vt-loading" role="cell">
        <span className="muted">Loading…</span>
      </div>
    </>
  );
}

function Cell({ children, className }: { children?: ReactNode; className?: string }) {
  return (
    <div className={`vt-cell ${className ?? ""}`} role="cell">
      {children}
    </div>
  );
}

function Cells({ t, checked, onCheck, onOpen }: { t: TokenInfo; checked: boolean; onCheck: (on: boolean) => void; onOpen: (id: number) => void }) {
  const why = statusWhy(t);
  const whyAt = parseDate(why?.at);
  return (
    <>
      <div className="vt-cell vt-check" role="cell" onClick={(e) => e.stopPropagation()}>
        <input
          type="checkbox"
          aria-label={`Select ${t.name}`}
          checked={checked}
          disabled={t.status === "revoked"}
          title={t.status === "revoked" ? "Revoked tokens cannot change status" : undefined}
          onChange={(e) => onCheck(e.target.checked)}
        />
      </div>
      <Cell className="two-line">
        <button
          type="button"
          className="link-button token-name ellipsis"
          onClick={(e) => {
            e.stopPropagation();
            onOpen(t.id);
          }}
        >
          {t.name}
        </button>
        <span className="mono muted small">
          {t.hint}
          {t.honeytoken && <HoneytokenBadge />}
        </span>
      </Cell>
      <Cell>
        <span className={`kind-chip kind-${t.kind}`}>{KIND_LABELS[t.kind]}</span>
      </Cell>
      <Cell className="two-line">
        {t.kind === "company" ? (
          <>
            <span className="ellipsis">Company</span>
            <span className="muted small ellipsis" title={`Created by ${t.created_by}`}>
              by {t.created_by}
            </span>
          </>
        ) : (
          <>
            <span className="ellipsis">{t.owner?.name ?? "—"}</span>
            <span className="muted small ellipsis">{t.owner?.email}</span>
          </>
        )}
      </Cell>
      <Cell className="scopes-cell">
        <span className="ellipsis mono small" title={t.scopes.join(", ")}>
          {t.scopes.length ? t.scopes.join(", ") : <span className="muted">None</span>}
        </span>
      </Cell>
      <Cell className="two-line">
        <StatusBadge status={t.status} />
        {why && (
          <span className="muted small ellipsis" title={`${why.reason}${whyAt ? `, ${formatExact(whyAt)}` : ""}`}>
            {t.status === "expired" && why.reason !== "Reached its expiry date" ? "idle, " : ""}
            <RelativeTime value={why.at} empty="date unknown" short />
          </span>
        )}
      </Cell>
      <Cell>
        <RelativeTime value={t.created_at} short />
      </Cell>
      <Cell>
        <RelativeTime value={t.expires_at} empty="No expiry" short />
      </Cell>
      <Cell>
        <RelativeTime value={t.last_used_at} empty="Never" short />
      </Cell>
      <Cell className="num two-line">
        <span title={`${t.use_count} accepted, ${t.refused_count} refused`}>{t.use_count.toLocaleString()}</span>
        {t.refused_count > 0 && (
          <span className="outcome-refused small" title={`${t.refused_count} refused`}>
            <span aria-hidden="true">✕</span> {t.refused_count.toLocaleString()}
            <span className="visually-hidden"> refused</span>
          </span>
        )}
      </Cell>
    </>
  );
}
