// The admin landing page: the counts that need attention, each a link to All tokens with the
// filter behind it.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { HoneytokenAlert } from "../../bindings/HoneytokenAlert";
import type { NewSourceAlert } from "../../bindings/NewSourceAlert";
import { RelativeTime } from "../../components/ui/RelativeTime";
import { useState } from "react";
import { ErrorBanner } from "../../components/ui/ErrorBanner";
import * as ipc from "../../lib/ipc";
import type { DashboardCard } from "../../lib/tokenQuery";
import { ExplainDialog } from "../explain/ExplainDialog";
import { ScanDialog } from "../scan/ScanDialog";
import { TokenDetailsPanel } from "../my-tokens/TokenDetailsPanel";

type Card = { key: DashboardCard; title: string; help: string; tone: "warn" | "danger" | "neutral" | "ok" };

const CARDS: Card[] = [
  { key: "expiring_7_days", title: "Expiring within 7 days", help: "Renew or replace them before the services using them break.", tone: "warn" },
  { key: "expiring_30_days", title: "Expiring within 30 days", help: "Plan their replacement.", tone: "neutral" },
  { key: "never_used", title: "Active, never used", help: "Possibly forgotten: revoke what nobody needs.", tone: "neutral" },
  { key: "unused_30_days", title: "Active, unused for 30+ days", help: "Stale tokens widen the attack surface for nothing.", tone: "neutral" },
  {
    key: "refused_24_hours",
    title: "Refused attempts in 24 hours",
    help: "Wrong network, expired, revoked or rate-limited: a broken client or someone probing. Opens active tokens by latest use.",
    tone: "danger",
  },
  {
    key: "presented_in_query",
    title: "Presented in a URL query",
    help: "Risky: URLs are written to server and proxy logs, browser history and Referer headers, so these tokens may have leaked. Move callers to the Authorization header and regenerate.",
    tone: "danger",
  },
  { key: "active", title: "Active tokens", help: "Everything that can call the API right now.", tone: "ok" },
];

export function DashboardPage({ onOpen }: { onOpen: (card: DashboardCard) => void }) {
  // Every 15 s, and on every visit: a honeytoken alert is news an admin needs at once.
  const dashboard = useQuery({ queryKey: ["dashboard"], queryFn: ipc.getDashboard, refetchInterval: 15_000, refetchOnMount: "always" });
  const [testing, setTesting] = useState(false);
  const [scanning, setScanning] = useState(false);
  return (
    <>
      <div className="page-header">
        <h1>Dashboard</h1>
        <div className="actions start">
          <button type="button" className="btn" onClick={() => setScanning(true)}>
            Scan for leaked tokens
          </button>
          <button type="button" className="btn" onClick={() => setTesting(true)}>
            Test a token
          </button>
        </div>
      </div>
      <ExplainDialog open={testing} onOpenChange={setTesting} />
      <ScanDialog open={scanning} onOpenChange={setScanning} />
      {dashboard.isPending && <p className="muted">Loading…</p>}
      <ErrorBanner error={dashboard.error} />
      {dashboard.data && dashboard.data.honeytoken_alerts.length > 0 && <HoneytokenAlerts alerts={dashboard.data.honeytoken_alerts} />}
      {dashboard.data && dashboard.data.new_sources.length > 0 && (
        <NewSources tokens={dashboard.data.new_source_tokens} alerts={dashboard.data.new_sources} />
      )}
      {dashboard.data && dashboard.data.usage_dropped > 0 && (
        <div className="banner banner-warning" role="status">
          {dashboard.data.usage_dropped.toLocaleString()} usage events were not recorded because the API received them faster than it could
          write them; the counts below may be low.
        </div>
      )}
      {dashboard.data && (
        <ul className="dash-grid">
          {CARDS.map((c) => {
            const n = dashboard.data[c.key];
            return (
              <li key={c.key}>
                <button type="button" className={`dash-card tone-${c.tone} ${n === 0 ? "is-zero" : ""}`} onClick={() => onOpen(c.key)}>
                  <span className="dash-title">{c.title}</span>
                  <span className="dash-number">{n.toLocaleString()}</span>
                  <span className="dash-help">{c.help}</span>
                  <span className="dash-link" aria-hidden="true">
                    Show tokens →
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </>
  );
}

/** Honeytoken presentations no admin has acknowledged: a red card until one does. */
function HoneytokenAlerts({ alerts }: { alerts: HoneytokenAlert[] }) {
  const qc = useQueryClient();
  const ack = useMutation({
    mutationFn: (upTo: number) => ipc.acknowledgeHoneytokenAlerts(upTo),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["dashboard"] }),
  });
  const newest = Math.max(...alerts.map((a) => a.id));
  return (
    <section className="honeytoken-alerts" role="alert" aria-labelledby="honeytoken-alerts-title">
      <h2 id="honeytoken-alerts-title">
        {alerts.length === 1 ? "A honeytoken was used" : `Honeytokens were used ${alerts.length} times`}
      </h2>
      <p>Whoever presented it has a token that was never given to anyone: find out how it left, from the address and client below.</p>
      <div className="table-wrap">
        <table className="data-table compact" aria-label="Honeytoken alerts">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Honeytoken</th>
              <th scope="col">Address</th>
              <th scope="col">Client</th>
              <th scope="col">Request</th>
            </tr>
          </thead>
          <tbody>
            {alerts.map((a) => (
              <tr key={a.id}>
                <WhenAndToken alert={a} />
                <td className="mono">{a.ip ?? "—"}</td>
                <td className="mono client">{a.client ?? "—"}</td>
                <td className="mono">{a.request}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {ack.error && <ErrorBanner error={ack.error} />}
      <div className="actions start">
        <button type="button" className="btn danger" disabled={ack.isPending} onClick={() => ack.mutate(newest)}>
          {ack.isPending ? "Acknowledging…" : "Acknowledge"}
        </button>
      </div>
    </section>
  );
}

/** What was new about a request: its network, its client, or both. */
export function newSourceText(a: Pick<NewSourceAlert, "network" | "client">): string {
  const parts = [a.network && `network ${a.network}`, a.client && `client ${a.client}`].filter(Boolean);
  return parts.join(" and ");
}

/** Tokens with alerts on that were accepted from a network or client they never used before. */
function NewSources({ tokens, alerts }: { tokens: number; alerts: NewSourceAlert[] }) {
  const [openId, setOpenId] = useState<number | null>(null);
  return (
    <section className="new-sources" aria-labelledby="new-sources-title">
      <TokenDetailsPanel id={openId} onClose={() => setOpenId(null)} />
      <h2 id="new-sources-title">
        {tokens === 1 ? "1 token used from a new place in 24 h" : `${tokens.toLocaleString()} tokens used from new places in 24 h`}
      </h2>
      <p>
        Each was accepted from a network (/24 or /48) or a client it had never been used from. If you do not recognise one, choose the token to
        revoke or rotate it.
      </p>
      <div className="table-wrap">
        <table className="data-table compact" aria-label="Tokens used from new places">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Token</th>
              <th scope="col">New</th>
              <th scope="col">Address</th>
              <th scope="col">User agent</th>
            </tr>
          </thead>
          <tbody>
            {alerts.map((a) => (
              <tr key={a.id}>
                <WhenAndToken alert={a} onOpen={setOpenId} />
                <td>{newSourceText(a)}</td>
                <td className="mono">{a.ip ?? "—"}</td>
                <td className="mono client">{a.user_agent ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** An alert's first two cells: when, and which token (name and hint); with `onOpen`, the
 *  name opens the token's details, to revoke or rotate it from there. */
function WhenAndToken({ alert, onOpen }: { alert: Pick<NewSourceAlert, "at" | "name" | "hint" | "token">; onOpen?: (id: number) => void }) {
  return (
    <>
      <td>
        <RelativeTime value={alert.at} />
      </td>
      <td>
        {onOpen ? (
          <button type="button" className="link-button token-name" onClick={() => onOpen(alert.token)}>
            {alert.name}
          </button>
        ) : (
          alert.name
        )}{" "}
        <span className="mono muted small">{alert.hint}</span>
      </td>
    </>
  );
}
