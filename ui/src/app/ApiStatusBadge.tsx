import { useState } from "react";
import type { ApiStatus } from "../bindings/ApiStatus";

/** The store this window works on (this computer's) and the in-app HTTPS API: where it
 *  listens, whether it runs (or why not), its certificate fingerprint. */
export function ApiStatusBadge({ api }: { api: ApiStatus }) {
  const [open, setOpen] = useState(false);
  return (
    <div className="api-status">
      <span className="role-chip store-chip" title="Users, tokens and the audit log are kept in this computer's database">
        This computer
      </span>
      <button
        type="button"
        className={`api-pill ${api.running ? "api-ok" : "api-down"}`}
        aria-expanded={open}
        aria-controls="api-status-details"
        onClick={() => setOpen((o) => !o)}
      >
        <span className="badge-dot" aria-hidden="true" />
        API {api.running ? "running" : "not running"}
        <span className="mono api-url">{api.baseUrl}</span>
      </button>
      {open && (
        <dl id="api-status-details" className="api-details">
          <dt>Store</dt>
          <dd>This computer (its own database)</dd>
          <dt>Base URL</dt>
          <dd className="mono">{api.baseUrl}</dd>
          <dt>Listening on</dt>
          <dd className="mono">{api.listen}</dd>
          <dt>State</dt>
          <dd>{api.running ? "Running" : (api.error ?? "Stopped")}</dd>
          <dt>Certificate SHA-256</dt>
          <dd className="mono fingerprint">{api.fingerprint ?? "No certificate yet"}</dd>
        </dl>
      )}
      {!api.running && api.error && (
        <p className="api-error" role="status">
          {api.error}
        </p>
      )}
    </div>
  );
}
