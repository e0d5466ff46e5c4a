// One confirmation for many tokens, then a progress bar while chunks of 50 go to
// bulk_set_token_status, then a summary naming what failed and why.
import { useRef, useState } from "react";
import { Modal } from "../../components/ui/Modal";
import * as ipc from "../../lib/ipc";
import type { StatusAction } from "../../bindings/StatusAction";
import { runBulk, summariseFailures, type BulkProgress } from "../../lib/bulk";
import { formError } from "../../lib/errors";

type Phase =
  | { step: "confirm" }
  | { step: "running"; progress: BulkProgress }
  | { step: "done"; done: number; failed: { message: string; ids: number[] }[]; notSent: number };

const VERBS: Record<Exclude<StatusAction, "activate">, { label: string; past: string; consequence: string }> = {
  deactivate: {
    label: "Deactivate",
    past: "Deactivated",
    consequence: "Requests with these tokens are refused until someone activates them again.",
  },
  revoke: {
    label: "Revoke",
    past: "Revoked",
    consequence: "Revoking is final: the tokens stop working now and cannot be activated again. Their history stays.",
  },
};

type Props = {
  action: Exclude<StatusAction, "activate"> | null;
  ids: number[];
  names: (id: number) => string | undefined;
  onClose: (changed: boolean) => void;
};

export function BulkStatusDialog({ action, ids, names, onClose }: Props) {
  const [phase, setPhase] = useState<Phase>({ step: "confirm" });
  const abort = useRef<AbortController | null>(null);
  if (!action) return null;
  const verb = VERBS[action];
  const n = ids.length;
  const plural = n === 1 ? "token" : "tokens";

  const start = async () => {
    abort.current = new AbortController();
    setPhase({ step: "running", progress: { processed: 0, total: n, done: 0, failed: 0 } });
    const r = await runBulk(ids, action, ipc.bulkSetTokenStatus, (progress) => setPhase({ step: "running", progress }), {
      signal: abort.current.signal,
      errorMessage: (e) => formError(e).message,
    });
    setPhase({ step: "done", done: r.done.length, failed: summariseFailures(r.failed), notSent: r.notSent.length });
  };

  const close = () => {
    const changed = phase.step !== "confirm";
    setPhase({ step: "confirm" });
    onClose(changed);
  };

  return (
    <Modal
      open
      onOpenChange={(open) => {
        if (!open && phase.step !== "running") close();
      }}
      role="alertdialog"
      locked={phase.step === "running"}
      title={phase.step === "confirm" ? `${verb.label} ${n} ${plural}?` : phase.step === "running" ? `${verb.label.replace(/e$/, "")}ing ${n} ${plural}…` : `${verb.label}: finished`}
      description={phase.step === "confirm" ? verb.consequence : undefined}
    >
      {phase.step === "confirm" && (
        <>
          <p>
            This changes <strong>{n}</strong> {plural} in one go.
          </p>
          <div className="actions">
            <button type="button" className="btn" onClick={close} autoFocus>
              Cancel
            </button>
            <button type="button" className={action === "revoke" ? "btn danger solid" : "btn primary"} onClick={() => void start()}>
              {verb.label} {n} {plural}
            </button>
          </div>
        </>
      )}
      {phase.step === "running" && (
        <div className="bulk-progress">
          <p id="bulk-progress-label" aria-live="polite">
            {`${phase.progress.processed} of ${phase.progress.total} processed${phase.progress.failed > 0 ? `, ${phase.progress.failed} failed` : ""}`}
          </p>
          <progress aria-labelledby="bulk-progress-label" max={phase.progress.total} value={phase.progress.processed} />
          <div className="actions">
            <button type="button" className="btn" onClick={() => abort.current?.abort()}>
              Stop after this batch
            </button>
          </div>
        </div>
      )}
      {phase.step === "done" && (
        <div className="bulk-summary" role="status">
          <p className={phase.done > 0 ? "outcome-ok" : undefined}>
            <span aria-hidden="true">✓ </span>
            {verb.past} {phase.done} of {n} {plural}.
          </p>
          {phase.notSent > 0 && <p>Stopped: {phase.notSent} not sent, nothing changed for them.</p>}
          {phase.failed.length > 0 && (
            <>
              <p className="outcome-refused">
                <span aria-hidden="true">✕ </span>
                {phase.failed.reduce((s, f) => s + f.ids.length, 0)} failed:
              </p>
              <ul className="failure-list">
                {phase.failed.map((f) => (
                  <li key={f.message}>
                    <strong>{f.message}</strong>{" "}
                    <span className="muted">
                      ({f.ids.length}: {f.ids.slice(0, 8).map((id) => names(id) ?? `#${id}`).join(", ")}
                      {f.ids.length > 8 ? `, and ${f.ids.length - 8} more` : ""})
                    </span>
                  </li>
                ))}
              </ul>
            </>
          )}
          <div className="actions">
            <button type="button" className="btn primary" onClick={close} autoFocus>
              Close
            </button>
          </div>
        </div>
      )}
    </Modal>
  );
}
