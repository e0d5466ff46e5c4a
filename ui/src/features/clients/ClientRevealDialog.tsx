// The one-time reveal of an OAuth client's secret (registration or a new secret): the client
// ID and the secret with copy buttons, "copy as" a token request, and the client's Postman
// environment and collection. Like the token reveal, it closes only once the person confirms
// they stored the secret.
import { useId, useState } from "react";
import { Modal } from "../../components/ui/Modal";
import type { RevealedClient } from "../../bindings/RevealedClient";
import * as ipc from "../../lib/ipc";
import { formError } from "../../lib/errors";
import { clientCurlSnippet, clientPostmanFileNames, clientPythonSnippet } from "../../lib/snippets";
import { copyStatusText } from "../reveal/RevealDialog";
import { useCopyCountdown } from "../reveal/useCopyCountdown";

type Props = { revealed: RevealedClient | null; onDone: () => void };

export function ClientRevealDialog({ revealed, onDone }: Props) {
  const rotated = (revealed?.client.secrets.length ?? 0) > 1;
  return (
    <Modal open={revealed !== null} onOpenChange={() => undefined} locked title={rotated ? "New client secret" : "Your new OAuth client"} size="wide">
      {revealed && <RevealBody key={revealed.client.id + revealed.secret.slice(-6)} revealed={revealed} onDone={onDone} />}
    </Modal>
  );
}

function RevealBody({ revealed, onDone }: { revealed: RevealedClient; onDone: () => void }) {
  const { client, secret, baseUrl } = revealed;
  const idField = useId();
  const secretField = useId();
  const [stored, setStored] = useState(false);
  const [saved, setSaved] = useState<{ ok: boolean; text: string } | null>(null);
  const [saving, setSaving] = useState(false);
  const { state, copy } = useCopyCountdown();
  const names = clientPostmanFileNames(client.name);
  const older = client.secrets.slice(1);

  const save = async (what: "environment" | "collection") => {
    setSaved(null);
    setSaving(true);
    try {
      const path = await ipc.pickSavePath(names[what]);
      if (path) {
        if (what === "environment") await ipc.saveClientPostmanEnvironment(path, client.client_id, secret, client.name);
        else await ipc.saveClientPostmanCollection(path, client.name);
        setSaved({ ok: true, text: `Saved Postman ${what} to ${path}` });
      }
    } catch (e) {
      setSaved({ ok: false, text: `Could not save: ${formError(e).message}` });
    } finally {
      setSaving(false);
    }
  };

  return (
    <div className="reveal">
      <p className="reveal-warning" role="note">
        <strong>This secret will not be shown again.</strong> Copy it or save it somewhere safe now. Tessera keeps only a hash of it.
      </p>
      <p className="muted">
        Client <strong className="token-name">{client.name}</strong>
        {older.length > 0 && (
          <>
            {" "}
            · the previous secret ({older.map((s) => s.hint).join(", ")}) keeps working until you retire it
          </>
        )}
      </p>
      <div className="field">
        <label htmlFor={idField}>Client ID</label>
        <div className="secret-row">
          <input id={idField} className="mono" readOnly value={client.client_id} spellCheck={false} onFocus={(e) => e.currentTarget.select()} />
          <button type="button" className="btn" onClick={() => void copy(client.client_id, "client ID")}>
            Copy
          </button>
        </div>
      </div>
      <div className="field">
        <label htmlFor={secretField}>Client secret</label>
        <div className="secret-row">
          <input id={secretField} className="mono secret" readOnly value={secret} spellCheck={false} autoComplete="off" onFocus={(e) => e.currentTarget.select()} />
          <button type="button" className="btn primary" onClick={() => void copy(secret, "client secret")}>
            Copy
          </button>
        </div>
      </div>
      <div className="copy-as" role="group" aria-label="Copy as">
        <span className="copy-as-label">Copy as</span>
        <button type="button" className="btn small" onClick={() => void copy(clientCurlSnippet(client.client_id, secret, baseUrl), "curl")}>
          curl
        </button>
        <button type="button" className="btn small" onClick={() => void copy(clientPythonSnippet(client.client_id, secret, baseUrl), "Python requests")}>
          Python requests
        </button>
      </div>
      <p className={`copy-status ${state.phase === "error" ? "field-error" : ""}`} role="status" aria-live="polite">
        {copyStatusText(state)}
      </p>
      <div className="postman-row">
        <button type="button" className="btn" onClick={() => void save("environment")} disabled={saving}>
          Save Postman environment…
        </button>
        <button type="button" className="btn" onClick={() => void save("collection")} disabled={saving}>
          Save Postman collection…
        </button>
        {saved && (
          <span className={saved.ok ? "muted" : "field-error"} role="status">
            {saved.text}
          </span>
        )}
      </div>
      <p className="muted small">
        The collection gets an access token from /oauth/token with the environment&apos;s clientId and clientSecret before its first request and
        keeps it until shortly before it expires, in Postman and in newman alike.
      </p>
      <div className="reveal-confirm">
        <label className="check">
          <input type="checkbox" checked={stored} onChange={(e) => setStored(e.target.checked)} />
          I have stored this secret
        </label>
        <button type="button" className="btn primary" disabled={!stored} onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}
