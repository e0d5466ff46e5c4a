// An accessible modal dialog (Radix: focus trap, Esc, aria wiring). `locked` removes every way
// out except the dialog's own buttons: no Esc, no outside click, no close button.
import * as Dialog from "@radix-ui/react-dialog";
import type { ReactNode } from "react";

type Props = {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: ReactNode;
  description?: ReactNode;
  children: ReactNode;
  locked?: boolean;
  variant?: "dialog" | "sheet";
  size?: "normal" | "wide";
};

export function Modal({ open, onOpenChange, title, description, children, locked = false, variant = "dialog", size = "normal" }: Props) {
  const block = (e: Event) => {
    if (locked) e.preventDefault();
  };
  return (
    <Dialog.Root open={open} onOpenChange={(next) => (locked && !next ? undefined : onOpenChange(next))}>
      <Dialog.Portal>
        <Dialog.Overlay className="modal-overlay" />
        <Dialog.Content
          className={`modal modal-${variant} modal-${size}`}
          onEscapeKeyDown={block}
          onPointerDownOutside={block}
          onInteractOutside={block}
        >
          <header className="modal-header">
            <Dialog.Title className="modal-title">{title}</Dialog.Title>
            {!locked && (
              <Dialog.Close className="icon-button" aria-label="Close">
                <span aria-hidden="true">×</span>
              </Dialog.Close>
            )}
          </header>
          {description ? (
            <Dialog.Description className="modal-description">{description}</Dialog.Description>
          ) : (
            <Dialog.Description className="visually-hidden">{title}</Dialog.Description>
          )}
          <div className="modal-body">{children}</div>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
