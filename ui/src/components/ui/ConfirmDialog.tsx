// Confirmation for a consequential action: an alert dialog whose focus starts on Cancel; Esc
// cancels, an outside click does nothing. Shows the action's pending state and its error.
import { cloneElement, useState, type MouseEvent, type ReactElement, type ReactNode } from "react";
import { formError } from "../../lib/errors";
import { Modal } from "./Modal";

type Props = {
  trigger: ReactElement<{ onClick?: (e: MouseEvent<HTMLElement>) => void }>;
  title: ReactNode;
  description: ReactNode;
  confirmLabel: string;
  tone?: "danger" | "normal";
  onConfirm: () => Promise<unknown>;
};

export function ConfirmDialog({ trigger, title, description, confirmLabel, tone = "normal", onConfirm }: Props) {
  const [open, setOpen] = useState(false);
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const confirm = async () => {
    setPending(true);
    setError(null);
    try {
      await onConfirm();
      setOpen(false);
    } catch (e) {
      setError(formError(e).message);
    } finally {
      setPending(false);
    }
  };

  return (
    <>
      {cloneElement(trigger, {
        onClick: () => {
          setError(null);
          setOpen(true);
        },
      })}
      <Modal
        open={open}
        onOpenChange={(next) => {
          if (!pending) setOpen(next);
        }}
        role="alertdialog"
        title={title}
        description={description}
      >
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <div className="actions">
          <button type="button" className="btn" onClick={() => setOpen(false)} disabled={pending} autoFocus>
            Cancel
          </button>
          <button
            type="button"
            className={tone === "danger" ? "btn danger solid" : "btn primary"}
            onClick={() => void confirm()}
            disabled={pending}
            aria-busy={pending}
          >
            {pending ? "Working…" : confirmLabel}
          </button>
        </div>
      </Modal>
    </>
  );
}
