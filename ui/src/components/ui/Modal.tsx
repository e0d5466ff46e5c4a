// An accessible modal dialog (React Aria: focus trap and restore, Esc, outside click, aria
// wiring, scroll lock through CSSOM only, so it works under a strict CSP). `locked` removes
// every way out except the dialog's own buttons: no Esc, no outside click, no close button.
import { useId, type ReactNode } from "react";
import { Dialog, Heading, Modal as AriaModal, ModalOverlay } from "react-aria-components";

type Props = {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: ReactNode;
  description?: ReactNode;
  children: ReactNode;
  locked?: boolean;
  variant?: "dialog" | "sheet";
  size?: "normal" | "wide";
  role?: "dialog" | "alertdialog";
};

export function Modal({ open, onOpenChange, title, description, children, locked = false, variant = "dialog", size = "normal", role = "dialog" }: Props) {
  const descriptionId = useId();
  return (
    <ModalOverlay
      isOpen={open}
      onOpenChange={(next) => {
        if (!(locked && !next)) onOpenChange(next);
      }}
      isDismissable={!locked && role === "dialog"}
      isKeyboardDismissDisabled={locked}
      className={`modal-overlay overlay-${variant}`}
    >
      <AriaModal className={`modal modal-${variant} modal-${size}`}>
        <Dialog className="modal-dialog-inner" role={role} aria-describedby={description ? descriptionId : undefined}>
          <header className="modal-header">
            <Heading slot="title" className="modal-title">
              {title}
            </Heading>
            {!locked && role === "dialog" && (
              <button type="button" className="icon-button" aria-label="Close" onClick={() => onOpenChange(false)}>
                <span aria-hidden="true">×</span>
              </button>
            )}
          </header>
          {description && (
            <p id={descriptionId} className="modal-description">
              {description}
            </p>
          )}
          <div className="modal-body">{children}</div>
        </Dialog>
      </AriaModal>
    </ModalOverlay>
  );
}
