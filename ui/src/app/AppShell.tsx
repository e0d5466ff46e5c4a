// The signed-in frame: header (company, person, API status, sign-out), navigation, idle lock.
import { useCallback, useState } from "react";
import type { AppStatus, Me, Role } from "../lib/contract";
import * as ipc from "../lib/ipc";
import { useIdleLock } from "../features/sign-in/useIdleLock";
import { ProfilePage } from "../features/profile/ProfilePage";
import { MyTokensPage } from "../features/my-tokens/MyTokensPage";
import { ApiStatusBadge } from "./ApiStatusBadge";

export const ROLE_LABELS: Record<Role, string> = { admin: "Admin", vrm_admin: "VRM admin", user: "User" };

type Page = "profile" | "my-tokens";

// Admin screens (Company tokens, Users, All tokens, Usage, Audit, Settings) join this list.
const NAV: readonly { page: Page; label: string }[] = [
  { page: "my-tokens", label: "My tokens" },
  { page: "profile", label: "Profile" },
];

type Props = { status: AppStatus; me: Me; onSessionEnd: (reason: string | null) => void };

export function AppShell({ status, me, onSessionEnd }: Props) {
  const [page, setPage] = useState<Page>("my-tokens");
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

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="shell-header">
        <div className="brand">
          <img src="/favicon.svg" alt="" width={24} height={24} />
          <span className="brand-name">Tessera</span>
          <span className="brand-company">{me.company}</span>
        </div>
        <ApiStatusBadge api={status.api} />
        <div className="who">
          <span className="who-name">{me.name}</span>
          <span className="role-chip">{ROLE_LABELS[me.role]}</span>
          <button className="btn small" type="button" onClick={() => void end(null)} disabled={signingOut}>
            Sign out
          </button>
        </div>
      </header>
      {status.keyWarning && (
        <div className="banner banner-warning shell-banner" role="status">
          {status.keyWarning}
        </div>
      )}
      <div className="shell-body">
        <nav className="side-nav" aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.page}>
                <button
                  type="button"
                  className="nav-item"
                  aria-current={page === item.page ? "page" : undefined}
                  onClick={() => setPage(item.page)}
                >
                  {item.label}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" className="page" tabIndex={-1}>
          {page === "profile" ? <ProfilePage /> : <MyTokensPage />}
        </main>
      </div>
    </div>
  );
}
