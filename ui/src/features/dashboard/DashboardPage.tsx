// The admin landing page: the counts that need attention, each a link to All tokens with the
// filter behind it.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { ErrorBanner } from "../../components/ui/ErrorBanner";
import * as ipc from "../../lib/ipc";
import type { DashboardCard } from "../../lib/tokenQuery";
import { ExplainDialog } from "../explain/ExplainDialog";

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
  const dashboard = useQuery({ queryKey: ["dashboard"], queryFn: ipc.getDashboard, refetchInterval: 60_000 });
  const [testing, setTesting] = useState(false);
  return (
    <>
      <div className="page-header">
        <h1>Dashboard</h1>
        <button type="button" className="btn" onClick={() => setTesting(true)}>
          Test a token
        </button>
      </div>
      <ExplainDialog open={testing} onOpenChange={setTesting} />
      {dashboard.isPending && <p className="muted">Loading…</p>}
      <ErrorBanner error={dashboard.error} />
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
