// Company tokens > OAuth clients: each client's scopes, networks, token lifetime, secrets
// (hint, created, last used), tokens issued in 24 h and last use; register, give a new secret
// (the old one keeps working until retired), retire a secret, disable, enable, delete.
import { useState } from "react";
import { ConfirmDialog } from "../../components/ui/ConfirmDialog";
import { ErrorBanner } from "../../components/ui/ErrorBanner";
import { RelativeTime } from "../../components/ui/RelativeTime";
import type { ClientInfo } from "../../bindings/ClientInfo";
import type { RevealedClient } from "../../bindings/RevealedClient";
import { ClientRevealDialog } from "./ClientRevealDialog";
import { CreateClientDialog, TOKEN_LIFETIMES } from "./CreateClientDialog";
import { useClients, useDeleteClient, useRetireClientSecret, useRotateClientSecret, useSetClientStatus } from "./useClients";

export function lifetimeText(seconds: number): string {
  const offered = TOKEN_LIFETIMES.find((t) => t.seconds === seconds);
  if (offered) return offered.label.replace(" (recommended)", "");
  if (seconds % 3600 === 0) return `${seconds / 3600} hours`;
  if (seconds % 60 === 0) return `${seconds / 60} minutes`;
  return `${seconds} seconds`;
}

export function ClientsSection() {
  const clients = useClients();
  const [creating, setCreating] = useState(false);
  const [revealed, setRevealed] = useState<RevealedClient | null>(null);
  const registerButton = (
    <button type="button" className="btn" onClick={() => setCreating(true)}>
      Register OAuth client
    </button>
  );
  return (
    <section className="clients-section" aria-labelledby="oauth-clients-heading">
      <div className="page-header">
        <h2 id="oauth-clients-heading">OAuth clients</h2>
        {clients.data && clients.data.length > 0 && registerButton}
      </div>
      {clients.isPending && <p className="muted">Loading…</p>}
      <ErrorBanner error={clients.error} />
      {clients.data &&
        (clients.data.length === 0 ? (
          <div className="empty-state card">
            <p>
              An OAuth client gets short-lived access tokens (client credentials) instead of holding a static token: a service asks for a token with
              its client ID and secret from any standard OAuth library, and each token expires within the hour.
            </p>
            {registerButton}
          </div>
        ) : (
          <div className="table-wrap">
            <table className="data-table clients-table">
              <caption className="visually-hidden">OAuth clients with their secrets and recent tokens.</caption>
              <thead>
                <tr>
                  <th scope="col">Client</th>
                  <th scope="col">Status</th>
                  <th scope="col">Scopes and limits</th>
                  <th scope="col">Secrets</th>
                  <th scope="col">Use</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {clients.data.map((c) => (
                  <ClientRow key={c.id} client={c} onRevealed={setRevealed} />
                ))}
              </tbody>
            </table>
          </div>
        ))}
      <CreateClientDialog
        open={creating}
        onOpenChange={setCreating}
        onCreated={(r) => {
          setCreating(false);
          setRevealed(r);
        }}
      />
      <ClientRevealDialog revealed={revealed} onDone={() => setRevealed(null)} />
    </section>
  );
}

function ClientRow({ client: c, onRevealed }: { client: ClientInfo; onRevealed: (r: RevealedClient) => void }) {
  const rotate = useRotateClientSecret();
  const retire = useRetireClientSecret();
  const status = useSetClientStatus();
  const remove = useDeleteClient();
  const active = c.status === "active";
  return (
    <tr data-client-id={c.id}>
      <td>
        <strong className="client-name">{c.name}</strong>
        <div className="mono small">{c.client_id}</div>
        {c.description && <div className="muted small">{c.description}</div>}
        {c.expires_at && (
          <div className="muted small">
            Ends <RelativeTime value={c.expires_at} />
          </div>
        )}
      </td>
      <td>
        <span className={`badge ${active ? "badge-active" : "badge-deactivated"}`}>
          <span className="badge-dot" aria-hidden="true" />
          {active ? "Active" : "Disabled"}
        </span>
      </td>
      <td className="small">
        <div className="mono">{c.scopes.join(" ")}</div>
        <div>
          From <span className="mono">{c.allowed_networks.length ? c.allowed_networks.join(", ") : "any address"}</span>
        </div>
        <div className="muted">
          Tokens live {lifetimeText(c.token_ttl_seconds)} · {c.rate_limit}/min
        </div>
      </td>
      <td>
        <ul className="plain-list secrets">
          {c.secrets.map((s, i) => (
            <li key={s.id} className="small client-secret">
              <span className="mono">{s.hint}</span>
              <div className="muted">
                created <RelativeTime value={s.created_at} short /> · used <RelativeTime value={s.last_used_at} short />
              </div>
              {i > 0 && (
                <ConfirmDialog
                  trigger={
                    <button type="button" className="btn small" aria-label={`Retire secret ${s.hint} of ${c.name}`}>
                      Retire
                    </button>
                  }
                  title={`Retire secret ${s.hint}?`}
                  description="It stops working at once; services still using it get invalid_client. The newer secret keeps working."
                  confirmLabel="Retire secret"
                  tone="danger"
                  onConfirm={() => retire.mutateAsync({ id: c.id, secretId: s.id })}
                />
              )}
            </li>
          ))}
        </ul>
      </td>
      <td className="small">
        <div>
          <span className="client-issued">{c.tokens_issued_24h}</span> {c.tokens_issued_24h === 1 ? "token" : "tokens"} in 24 h
        </div>
        <div>
          {c.uses} {c.uses === 1 ? "use" : "uses"} in all
        </div>
        <div className="muted">
          Last used <RelativeTime value={c.last_used_at} short />
        </div>
      </td>
      <td className="row-actions client-actions">
        <ConfirmDialog
          trigger={
            <button type="button" className="btn small" disabled={c.secrets.length > 1} title={c.secrets.length > 1 ? "Retire the older secret first" : undefined}>
              New secret…
            </button>
          }
          title={`A new secret for ${c.name}?`}
          description="The new secret is shown once. The current one keeps working beside it until you retire it, so the service can switch without a gap."
          confirmLabel="Make new secret"
          onConfirm={async () => onRevealed(await rotate.mutateAsync(c.id))}
        />
        {active ? (
          <ConfirmDialog
            trigger={<button type="button" className="btn small">Disable</button>}
            title={`Disable ${c.name}?`}
            description="It gets no more tokens, and every token it holds is revoked at once. You can enable it again."
            confirmLabel="Disable client"
            tone="danger"
            onConfirm={() => status.mutateAsync({ id: c.id, action: "disable" })}
          />
        ) : (
          <button type="button" className="btn small" onClick={() => status.mutate({ id: c.id, action: "enable" })} disabled={status.isPending}>
            Enable
          </button>
        )}
        <ConfirmDialog
          trigger={<button type="button" className="btn small danger">Delete</button>}
          title={`Delete ${c.name}?`}
          description="Its secrets stop working and its tokens are revoked at once. The audit log and its tokens' usage stay."
          confirmLabel="Delete client"
          tone="danger"
          onConfirm={() => remove.mutateAsync(c.id)}
        />
        {status.error && (
          <p className="field-error" role="alert">
            {status.error.message}
          </p>
        )}
      </td>
    </tr>
  );
}
