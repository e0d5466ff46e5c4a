// The signed-in frame: header (company, person, API status, sign-out), navigation, idle lock.
import { Suspense, lazy, useCallback, useState } from "react";
import type { AppStatus } from "../bindings/AppStatus";
import type { Me } from "../bindings/Me";
import type { Role } from "../bindings/Role";
import * as ipc from "../lib/ipc";
import { ROLE_LABELS } from "../lib/roles";
import { useIdleLock } from "../features/sign-in/useIdleLock";
import { DEFAULT_SORT, EMPTY_FILTERS, dashboardView, type TokenFilters, type TokenOrder } from "../lib/tokenQuery";
import { ApiStatusBadge } from "./ApiStatusBadge";
import { TeamServerBadge } from "./TeamServerBadge";
import { useLiveUpdates } from "./useLiveUpdates";

// Each page is its own chunk, loaded when first opened: the window starts with only the
// sign-in code parsed, which keeps the WebKit process small while the app sits idle.
const ProfilePage = lazy(() => import("../features/profile/ProfilePage").then((m) => ({ default: m.ProfilePage })));
const MyTokensPage = lazy(() => import("../features/my-tokens/MyTokensPage").then((m) => ({ default: m.MyTokensPage })));
const AllTokensPage = lazy(() => import("../features/all-tokens/AllTokensPage").then((m) => ({ default: m.AllTokensPage })));
const AuditPage = lazy(() => import("../features/audit/AuditPage").then((m) => ({ default: m.AuditPage })));
const CompanyTokensPage = lazy(() =>
  import("../features/company-tokens/CompanyTokensPage").then((m) => ({ default: m.CompanyTokensPage })),
);
const DashboardPage = lazy(() => import("../features/dashboard/DashboardPage").then((m) => ({ default: m.DashboardPage })));
const SettingsPage = lazy(() => import("../features/settings/SettingsPage").then((m) => ({ default: m.SettingsPage })));
const UsersPage = lazy(() => import("../features/users/UsersPage").then((m) => ({ default: m.UsersPage })));

type Page = "dashboard" | "company-tokens" | "all-tokens" | "users" | "audit" | "settings" | "my-tokens" | "profile";

const LABELS: Record<Page, string> = {
  dashboard: "Dashboard",
  "company-tokens": "Company tokens",
  "all-tokens": "All tokens",
  users: "Users",
  audit: "Audit log",
  settings: "Settings",
  "my-tokens": "My tokens",
  profile: "Profile",
};

/** What each role sees in the navigation. Cosmetic only: the backend enforces every right. */
export const NAV_BY_ROLE: Record<Role, readonly Page[]> = {
  admin: ["dashboard", "company-tokens", "all-tokens", "users", "audit", "settings", "my-tokens", "profile"],
  vrm_admin: ["company-tokens", "all-tokens", "my-tokens", "profile"],
  user: ["my-tokens", "profile"],
};

type AllTokensView = { filters: TokenFilters; sort: TokenOrder; n: number };

type Props = { status: AppStatus; me: Me; onSessionEnd: (reason: string | null) => void };

export function AppShell({ status, me, onSessionEnd }: Props) {
  const nav = NAV_BY_ROLE[me.role];
  const [page, setPage] = useState<Page>(nav[0] === "dashboard" ? "dashboard" : "my-tokens");
  // The All tokens view a dashboard card asks for; `n` remounts the page with it.
  const [allTokensView, setAllTokensView] = useState<AllTokensView>({ filters: EMPTY_FILTERS, sort: DEFAULT_SORT, n: 0 });
  const [signingOut, setSigningOut] = useState(false);

  const end = useCallback(
    async (reason: string | null) => {
      setSigningOut(true);
      try {
        await ipc.signOut();
      } catch {
        // Signing out of an already-ended session is fine: we go to sign-in either way.
      }
      onSessionEnd(reason);
    },
    [onSessionEnd],
  );

  const minutes = status.lockAfterMinutes;
  useIdleLock(minutes, () => void end(`Locked after ${minutes} ${minutes === 1 ? "minute" : "minutes"} idle.`));
  const live = useLiveUpdates();
  // On a team server: whether it answers, by the live poll once it has been asked, else by
  // what app_status found. While it does not, what is on screen stays and is read-only.
  const team = status.team ? { ...status.team, reachable: live ?? status.team.reachable } : null;
  const readOnly = team !== null && !team.reachable;

  return (
    <div className={`shell ${page === "all-tokens" ? "shell-fill" : ""}`}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="shell-header">
        <div className="brand">
          <img src="/favicon.svg" alt="" width={24} height={24} />
          <span className="brand-name">Tessera</span>
          <span className="brand-company">{me.company}</span>
        </div>
        {team ? <TeamServerBadge team={team} /> : <ApiStatusBadge api={status.api} />}
        <div className="who">
          <span className="who-name">{me.name}</span>
          <span className="role-chip">{ROLE_LABELS[me.role]}</span>
          <button className="btn small" type="button" onClick={() => void end(null)} disabled={signingOut}>
            Sign out
          </button>
        </div>
      </header>
      {readOnly && (
        <div className="banner banner-warning shell-banner" role="status">
          The team server at <span className="mono">{team.url}</span> does not answer (or cannot reach its database). What is on
          screen may be out of date and is read-only until it is back; Tessera keeps trying every few seconds.
        </div>
      )}
      {status.auditProblem && (
        <div className="banner banner-error shell-banner" role="alert">
          {status.auditProblem}
        </div>
      )}
      {status.keyWarning && (
        <div className="banner banner-warning shell-banner" role="status">
          {status.keyWarning}
        </div>
      )}
      <div className="shell-body">
        <nav className="side-nav" aria-label="Main">
          <ul>
            {nav.map((item) => (
              <li key={item} className={item === "my-tokens" && nav.length > 4 ? "nav-separated" : undefined}>
                <button
                  type="button"
                  className="nav-item"
                  aria-current={page === item ? "page" : undefined}
                  onClick={() => {
                    if (item === "all-tokens" && page !== "all-tokens") setAllTokensView((v) => ({ filters: EMPTY_FILTERS, sort: DEFAULT_SORT, n: v.n + 1 }));
                    setPage(item);
                  }}
                >
                  {LABELS[item]}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" className={`page ${page === "all-tokens" ? "page-fill" : ""}`} tabIndex={-1}>
          {/* A disabled fieldset disables every control on the page at once (dialogs open in
              their own layer and say for themselves that a change was not sent). */}
          <fieldset className="read-only-lock" disabled={readOnly}>
          <Suspense fallback={null}>
          {page === "dashboard" && (
            <DashboardPage
              onOpen={(card) => {
                setAllTokensView((v) => ({ ...dashboardView(card), n: v.n + 1 }));
                setPage("all-tokens");
              }}
            />
          )}
          {page === "company-tokens" && <CompanyTokensPage />}
          {page === "all-tokens" && <AllTokensPage key={allTokensView.n} role={me.role} initial={allTokensView} />}
          {page === "users" && <UsersPage me={me} />}
          {page === "audit" && <AuditPage />}
          {page === "settings" && <SettingsPage api={status.api} />}
          {page === "my-tokens" && <MyTokensPage />}
          {page === "profile" && <ProfilePage />}
          </Suspense>
          </fieldset>
        </main>
      </div>
    </div>
  );
}
