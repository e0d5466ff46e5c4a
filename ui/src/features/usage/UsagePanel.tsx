// How one token is used: last use, a per-day chart over 7 / 30 / 90 days, recent requests
// with outcome and reason, and every address and client seen.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Fragment, useState } from "react";
import { ErrorBanner } from "../../components/ui/ErrorBanner";
import { RelativeTime } from "../../components/ui/RelativeTime";
import { RepeatCount } from "../../components/ui/RepeatCount";
import type { ClientSeen } from "../../bindings/ClientSeen";
import type { TokenSource } from "../../bindings/TokenSource";
import type { UsageEntry } from "../../bindings/UsageEntry";
import * as ipc from "../../lib/ipc";
import { isQueryParam, splitOutcome } from "../../lib/usageChart";
import { ExplainDialog, type ExplainPreset } from "../explain/ExplainDialog";
import { UsageChart } from "./UsageChart";

const RANGES = [7, 30, 90] as const;

export function useUsageReport(id: number, days: number) {
  return useQuery({
    queryKey: ["usage", id, days],
    queryFn: () => ipc.tokenUsageReport(id, days),
    placeholderData: keepPreviousData,
  });
}


export function UsagePanel({ id }: { id: number }) {
  const [days, setDays] = useState<number>(30);
  const [why, setWhy] = useState<ExplainPreset | null>(null);
  const report = useUsageReport(id, days);
  const r = report.data;
  return (
    <div className="usage" aria-busy={report.isFetching || undefined}>
      <ErrorBanner error={report.error} />
      {report.isPending && <p className="muted">Loading usage…</p>}
      {r && (
        <>
          <dl className="meta-grid">
            <dt>Last used</dt>
            <dd>
              <RelativeTime value={r.token.last_used_at} empty="Never used" />
            </dd>
            <dt>Last address</dt>
            <dd className="mono">{r.token.last_used_ip ?? <span className="muted">None</span>}</dd>
            <dt>Last client</dt>
            <dd className="mono">{r.token.last_used_agent ?? <span className="muted">None</span>}</dd>
            <dt>All time</dt>
            <dd>
              {r.token.use_count.toLocaleString()} accepted, {r.token.refused_count.toLocaleString()} refused
            </dd>
          </dl>
          {r.recent.some((u) => isQueryParam(u.via)) && (
            <div className="banner banner-warning" role="status">
              This token was sent in a URL query parameter. URLs end up in server logs, proxy logs, browser history and
              Referer headers, so treat the token as exposed: regenerate it and send it in the Authorization header.
            </div>
          )}
          <div className="usage-head">
            <h3>Uses per day</h3>
            <div className="segmented" role="radiogroup" aria-label="Period">
              {RANGES.map((d) => (
                <label key={d} className="segment">
                  <input type="radio" name={`usage-days-${id}`} value={d} checked={days === d} onChange={() => setDays(d)} className="visually-hidden" />
                  {d} days
                </label>
              ))}
            </div>
          </div>
          <UsageChart series={r.series} days={days} />
          <h3>Recent requests</h3>
          <RecentRequests uses={r.recent} onWhy={(u) => setWhy({ id, ip: u.ip, at: u.at })} />
          <ExplainDialog open={why !== null} onOpenChange={(o) => !o && setWhy(null)} preset={why} />
          <h3>Addresses and clients seen</h3>
          <Clients clients={r.clients} />
          <h3>Known networks and clients</h3>
          <Sources sources={r.sources} alerts={r.token.alert_new_sources} />
        </>
      )}
    </div>
  );
}

function RecentRequests({ uses, onWhy }: { uses: UsageEntry[]; onWhy: (u: UsageEntry) => void }) {
  if (uses.length === 0) return <p className="empty-inline">No requests recorded.</p>;
  return (
    <div className="table-wrap">
      <table className="data-table compact">
        <caption className="visually-hidden">Recent requests with this token</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Outcome</th>
            <th scope="col">Reason</th>
            <th scope="col">Address</th>
            <th scope="col">Request</th>
            <th scope="col">Client</th>
          </tr>
        </thead>
        <tbody>
          {uses.map((u) => {
            const [outcome, reason] = splitOutcome(u.outcome);
            const ok = u.status < 400;
            return (
              <tr key={u.id}>
                <td>
                  <RelativeTime value={u.at} />
                  <RepeatCount uses={u.uses} />
                </td>
                <td>
                  <span className={`outcome ${ok ? "outcome-ok" : "outcome-refused"} nowrap`}>
                    <span aria-hidden="true">{ok ? "✓" : "✕"}</span> {outcome} <span className="muted small">({u.status})</span>
                  </span>
                </td>
                <td>
                  {reason || <span className="muted">—</span>}
                  {!ok && (
                    <button type="button" className="link-button small" onClick={() => onWhy(u)} aria-label={`Why was the request at ${u.at} refused?`}>
                      Why?
                    </button>
                  )}
                  {isQueryParam(u.via) ? <div className="risk-chip">⚠ via URL query</div> : u.via ? <div className="muted small">via {u.via}</div> : null}
                </td>
                <td className="mono nowrap">{u.ip ?? "—"}</td>
                <td className="mono path">
                  <span className="nowrap">{u.method}</span> {u.path}
                </td>
                <td className="mono client">{u.user_agent ?? "—"}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** What new-source alerts compare against: every network (/24, /48) and client family the
 *  token was accepted from, kept past usage retention. */
function Sources({ sources, alerts }: { sources: TokenSource[]; alerts: boolean }) {
  if (sources.length === 0) return <p className="empty-inline">Not accepted from anywhere yet: its first network and client will be its baseline.</p>;
  const list = (kind: string) => sources.filter((s) => s.kind === kind);
  return (
    <>
      <p className="muted small">
        {alerts ? "A use from anywhere else is alerted." : "New-source alerts are off for this token: a use from anywhere else is recorded, not alerted."}
      </p>
      <dl className="meta-grid sources">
        {[
          ["network", "Networks"],
          ["client", "Clients"],
        ].map(([kind, label]) => (
          <Fragment key={kind}>
            <dt>{label}</dt>
            <dd>
              {list(kind).length === 0 ? (
                <span className="muted">None</span>
              ) : (
                <ul className="source-list" aria-label={label}>
                  {list(kind).map((s) => (
                    <li key={s.source}>
                      <span className="mono">{s.source}</span> <span className="muted small">since <RelativeTime value={s.first_seen} /></span>
                    </li>
                  ))}
                </ul>
              )}
            </dd>
          </Fragment>
        ))}
      </dl>
    </>
  );
}

function Clients({ clients }: { clients: ClientSeen[] }) {
  if (clients.length === 0) return <p className="empty-inline">No addresses or clients seen yet.</p>;
  return (
    <div className="table-wrap">
      <table className="data-table compact">
        <caption className="visually-hidden">Addresses and clients that presented this token</caption>
        <thead>
          <tr>
            <th scope="col">Address</th>
            <th scope="col">Client</th>
            <th scope="col">First seen</th>
            <th scope="col">Last seen</th>
            <th scope="col">Uses</th>
          </tr>
        </thead>
        <tbody>
          {clients.map((c, i) => (
            <tr key={`${c.ip}-${c.user_agent}-${i}`}>
              <td className="mono">{c.ip ?? "—"}</td>
              <td className="mono client">{c.user_agent ?? "—"}</td>
              <td>
                <RelativeTime value={c.first_seen} />
              </td>
              <td>
                <RelativeTime value={c.last_seen} />
              </td>
              <td>{c.uses.toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
