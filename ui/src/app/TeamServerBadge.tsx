import { useState } from "react";
import type { TeamStatus } from "../bindings/TeamStatus";

/** Which store the window works on when it is a team server: its address, whether it answers, and the certificate fingerprint the person confirmed. */
export function TeamServerBadge({ team }: { team: TeamStatus }) {
  const [open, setOpen] = useState(false);
  return (
    <div className="api-status">
      <button
        type="button"
        className={`api-pill ${team.reachable ? "api-ok" : "api-down"}`}
        aria-expanded={open}
        aria-controls="team-status-details"
        onClick={() => setOpen((o) => !o)}
      >
        <span className="badge-dot" aria-hidden="true" />
        Team server {team.reachable ? "connected" : "unreachable"}
        <span className="mono api-url">{team.url}</span>
      </button>
      {open && (
        <dl id="team-status-details" className="api-details">
          <dt>Store</dt>
          <dd>The team server (nothing is kept on this computer)</dd>
          <dt>Address</dt>
          <dd className="mono">{team.url}</dd>
          <dt>Certificate SHA-256 (confirmed)</dt>
          <dd className="mono fingerprint">{team.fingerprint}</dd>
        </dl>
      )}
    </div>
  );
}
