// Confirmation for a consequential action (Radix AlertDialog: focus starts on Cancel, Esc
// cancels, an outside click does nothing). Shows the action's pending state and its error.
import * as AlertDialog from "@radix-ui/react-alert-dialog";
import { useState, type ReactNode } from "react";
import { formError } from "../../lib/errors";

type Props = {
  trigger: ReactNode;
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
    <AlertDialog.Root
      open={open}
      onOpenChange={(next) => {
        if (pending) return;
        setOpen(next);
        if (next) setError(null);
      }}
    >
      <AlertDialog.Trigger asChild>{trigger}</AlertDialog.Trigger>
      <AlertDialog.Portal>
        <AlertDialog.Overlay className="modal-overlay" />
        <AlertDialog.Content className="modal modal-dialog modal-confirm">
          <AlertDialog.Title className="modal-title">{title}</AlertDialog.Title>
          <AlertDialog.Description className="modal-description">{description}</AlertDialog.Description>
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          <div className="actions">
            <AlertDialog.Cancel className="btn" disabled={pending}>
              Cancel
            </AlertDialog.Cancel>
            <button
              type="button"
              className={tone === "danger" ? "btn danger" : "btn primary"}
              onClick={() => void confirm()}
              disabled={pending}
              aria-busy={pending}
            >
              {pending ? "Working…" : confirmLabel}
            </button>
          </div>
        </AlertDialog.Content>
      </AlertDialog.Portal>
    </AlertDialog.Root>
  );
}
