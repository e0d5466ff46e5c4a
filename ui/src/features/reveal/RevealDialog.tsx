// The one-time reveal: the only moment a token's secret is on screen. It cannot be dismissed
// (no Esc, outside click or close button) until the person confirms they stored the token.
import { useId, useState } from "react";
import { Modal } from "../../components/ui/Modal";
import type { Revealed } from "../../bindings/Revealed";
import * as ipc from "../../lib/ipc";
import { formError } from "../../lib/errors";
import { SNIPPETS, buildSnippet, postmanFileName } from "../../lib/snippets";
import { useCopyCountdown, type CopyState } from "./useCopyCountdown";

type Props = { revealed: Revealed | null; onDone: () => void; title?: string };

export function RevealDialog({ revealed, onDone, title = "Your new token" }: Props) {
  return (
    <Modal open={revealed !== null} onOpenChange={() => undefined} locked title={title} size="wide">
      {revealed && <RevealBody key={revealed.token.id + revealed.secret.slice(-6)} revealed={revealed} onDone={onDone} />}
    </Modal>
  );
}

/** What the reveal dialogs say of a copy in progress (token and client secret alike). */
export function copyStatusText(state: CopyState): string {
  switch (state.phase) {
    case "idle":
      return "";
    case "copying":
      return `Copying ${state.what}…`;
    case "copied":
      return `Copied ${state.what}. Clipboard clears in ${state.remaining} s.`;
    case "cleared":
      return "Clipboard cleared.";
    case "error":
      return `Copy failed: ${state.message}`;
  }
}

function RevealBody({ revealed, onDone }: { revealed: Revealed; onDone: () => void }) {
  const { token, secret, baseUrl } = revealed;
  const secretId = useId();
  const [stored, setStored] = useState(false);
  const [saveMessage, setSaveMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [saving, setSaving] = useState(false);
  const { state, copy } = useCopyCountdown();

  const savePostman = async () => {
    setSaveMessage(null);
    setSaving(true);
    try {
      const path = await ipc.pickSavePath(postmanFileName(token.name));
      if (path) {
        await ipc.savePostmanEnvironment(path, secret, token.name);
        setSaveMessage({ ok: true, text: `Saved Postman environment to ${path}` });
      }
    } catch (e) {
      setSaveMessage({ ok: false, text: `Could not save: ${formError(e).message}` });
    } finally {
      setSaving(false);
    }
  };

  return (
    <div className="reveal">
      <p className="reveal-warning" role="note">
        <strong>This token will not be shown again.</strong> Copy it or save it somewhere safe now. Tessera
        keeps only a hash of it.
      </p>
      <p className="muted">
        Token <strong className="token-name">{token.name}</strong>
      </p>
      <div className="field">
        <label htmlFor={secretId}>Token</label>
        <div className="secret-row">
          <input
            id={secretId}
            className="mono secret"
            readOnly
            value={secret}
            spellCheck={false}
            autoComplete="off"
            onFocus={(e) => e.currentTarget.select()}
          />
          <button type="button" className="btn primary" onClick={() => void copy(secret, "token")}>
            Copy
          </button>
        </div>
      </div>
      <div className="copy-as" role="group" aria-label="Copy as">
        <span className="copy-as-label">Copy as</span>
        {SNIPPETS.map((s) => (
          <button key={s.kind} type="button" className="btn small" onClick={() => void copy(buildSnippet(s.kind, secret, baseUrl), s.label)}>
            {s.label}
          </button>
        ))}
      </div>
      <p className={`copy-status ${state.phase === "error" ? "field-error" : ""}`} role="status" aria-live="polite">
        {copyStatusText(state)}
      </p>
      <div className="postman-row">
        <button type="button" className="btn" onClick={() => void savePostman()} disabled={saving}>
          Save Postman environment…
        </button>
        {saveMessage && (
          <span className={saveMessage.ok ? "muted" : "field-error"} role="status">
            {saveMessage.text}
          </span>
        )}
      </div>
      <div className="reveal-confirm">
        <label className="check">
          <input type="checkbox" checked={stored} onChange={(e) => setStored(e.target.checked)} />
          I have stored this token
        </label>
        <button type="button" className="btn primary" disabled={!stored} onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}
