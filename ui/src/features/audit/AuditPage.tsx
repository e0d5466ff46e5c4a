// The append-only audit log: filter by actor, action, target and time; newest first, "Load
// older" pages back by id; "Export CSV…" writes the filtered log through a native save dialog.
import { useInfiniteQuery, useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { ErrorBanner } from "../../components/ui/ErrorBanner";
import { RelativeTime } from "../../components/ui/RelativeTime";
import { AUDIT_PAGE, EMPTY_AUDIT_FILTERS, auditFiltersError, formatDetails, toAuditQuery, type AuditFilters } from "../../lib/auditQuery";
import { formatShort, parseDate } from "../../lib/dates";
import * as ipc from "../../lib/ipc";

export function AuditPage() {
  const [draft, setDraft] = useState<AuditFilters>(EMPTY_AUDIT_FILTERS);
  const [applied, setApplied] = useState<AuditFilters>(EMPTY_AUDIT_FILTERS);
  const [exported, setExported] = useState<string | null>(null);
  const rangeError = auditFiltersError(draft);
  const log = useInfiniteQuery({
    queryKey: ["audit", applied],
    queryFn: ({ pageParam }) => ipc.listAudit(toAuditQuery(applied, pageParam)),
    initialPageParam: null as number | null,
    getNextPageParam: (last) => (last.length === AUDIT_PAGE ? (last.at(-1)?.id ?? null) : null),
  });
  const exportCsv = useMutation({
    mutationFn: async () => {
      const path = await ipc.pickSavePath(`tessera-audit-${new Date().toISOString().slice(0, 10)}.csv`, "csv");
      if (!path) return null;
      const rows = await ipc.exportAuditCsv(path, toAuditQuery(applied, null, 10_000));
      return { path, rows };
    },
    onSuccess: (r) => setExported(r ? `Exported ${r.rows.toLocaleString()} ${r.rows === 1 ? "entry" : "entries"} to ${r.path}.` : null),
  });
  const set = (k: keyof AuditFilters, v: string) => setDraft((d) => ({ ...d, [k]: v }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!rangeError) setApplied(draft);
  };
  const entries = log.data?.pages.flat() ?? [];

  return (
    <>
      <div className="page-header">
        <h1>Audit log</h1>
        <button type="button" className="btn" onClick={() => exportCsv.mutate()} disabled={exportCsv.isPending}>
          {exportCsv.isPending ? "Exporting…" : "Export CSV…"}
        </button>
      </div>
      {exported && (
        <p className="banner banner-info" role="status">
          {exported}
        </p>
      )}
      <ErrorBanner error={exportCsv.error} prefix="Export failed" />
      <form className="filters card audit-filters" role="search" aria-label="Filter the audit log" onSubmit={submit}>
        <div className="filters-row">
          {(
            [
              ["actor", "Actor", "e-mail"],
              ["action", "Action", "e.g. token.revoke"],
              ["target", "Target", "token, user or setting"],
            ] as const
          ).map(([k, label, placeholder]) => (
            <div className="filter" key={k}>
              <label htmlFor={`a-${k}`}>{label}</label>
              <input id={`a-${k}`} type="search" placeholder={placeholder} value={draft[k]} onChange={(e) => set(k, e.target.value)} />
            </div>
          ))}
          <div className="filter">
            <label htmlFor="a-since">Since</label>
            <input id="a-since" type="datetime-local" value={draft.since} onChange={(e) => set("since", e.target.value)} />
          </div>
          <div className="filter">
            <label htmlFor="a-until">Until</label>
            <input
              id="a-until"
              type="datetime-local"
              value={draft.until}
              onChange={(e) => set("until", e.target.value)}
              aria-invalid={rangeError ? true : undefined}
              aria-describedby={rangeError ? "a-range-error" : undefined}
            />
          </div>
          <div className="filter filter-buttons">
            <button type="submit" className="btn primary" disabled={!!rangeError}>
              Apply
            </button>
            <button
              type="button"
              className="btn"
              onClick={() => {
                setDraft(EMPTY_AUDIT_FILTERS);
                setApplied(EMPTY_AUDIT_FILTERS);
              }}
            >
              Clear
            </button>
          </div>
        </div>
        {rangeError && (
          <p className="field-error" id="a-range-error" role="alert">
            {rangeError}
          </p>
        )}
      </form>
      <ErrorBanner error={log.error} />
      {log.isPending && <p className="muted">Loading…</p>}
      {log.data &&
        (entries.length === 0 ? (
          <p className="empty-inline">No entries match.</p>
        ) : (
          <>
            <div className="table-wrap">
              <table className="data-table compact">
                <caption className="visually-hidden">Audit log entries, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Actor</th>
                    <th scope="col">Action</th>
                    <th scope="col">Target</th>
                    <th scope="col">Details</th>
                  </tr>
                </thead>
                <tbody>
                  {entries.map((a) => {
                    const d = parseDate(a.at);
                    return (
                      <tr key={a.id}>
                        <td className="nowrap">
                          {d ? formatShort(d) : a.at}
                          <div className="muted small">
                            <RelativeTime value={a.at} />
                          </div>
                        </td>
                        <td className="mono">{a.actor}</td>
                        <td>
                          <span className="action-chip mono">{a.action}</span>
                        </td>
                        <td className="mono target">{a.target}</td>
                        <td className="details-cell">{formatDetails(a.details)}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
            <div className="actions start load-more">
              <span className="muted">{entries.length.toLocaleString()} {entries.length === 1 ? "entry" : "entries"} shown</span>
              {log.hasNextPage ? (
                <button type="button" className="btn" onClick={() => void log.fetchNextPage()} disabled={log.isFetchingNextPage}>
                  {log.isFetchingNextPage ? "Loading…" : "Load older"}
                </button>
              ) : (
                <span className="muted">· the beginning of the log</span>
              )}
            </div>
          </>
        ))}
    </>
  );
}
