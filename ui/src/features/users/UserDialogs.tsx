// The consequential user changes, each confirmed after showing what it does to their tokens:
// a role change lists the scopes their tokens lose; deactivation says how many tokens it revokes.
import { useState } from "react";
import { ErrorBanner } from "../../components/ui/ErrorBanner";
import { Modal } from "../../components/ui/Modal";
import type { Role } from "../../bindings/Role";
import type { UserView } from "../../bindings/UserView";
import { formError } from "../../lib/errors";
import { roleLabel } from "./roles";
import { useDeactivatePreview, useDeactivateUser, useReactivateUser, useRolePreview, useSetUserRole } from "./useUsers";

function Buttons({ pending, label, tone, onCancel, onConfirm, disabled }: { pending: boolean; label: string; tone: "danger" | "normal"; onCancel: () => void; onConfirm: () => void; disabled?: boolean }) {
  return (
    <div className="actions">
      <button type="button" className="btn" onClick={onCancel} disabled={pending} autoFocus>
        Cancel
      </button>
      <button type="button" className={tone === "danger" ? "btn danger solid" : "btn primary"} onClick={onConfirm} disabled={pending || disabled} aria-busy={pending}>
        {pending ? "Working…" : label}
      </button>
    </div>
  );
}

export function ChangeRoleDialog({ user, role, onClose }: { user: UserView; role: Role | null; onClose: () => void }) {
  const preview = useRolePreview(user.email, role);
  const change = useSetUserRole();
  const [error, setError] = useState<string | null>(null);
  if (!role) return null;
  const lost = preview.data ?? [];
  return (
    <Modal open onOpenChange={(o) => !o && !change.isPending && onClose()} role="alertdialog" title={`Make ${user.name} ${roleLabel(role)}?`} description={`Their role changes from ${roleLabel(user.role)} to ${roleLabel(role)} now. Their tokens follow the new role at once.`}>
      <ErrorBanner error={preview.error} />
      {preview.isPending ? (
        <p className="muted">Checking what their tokens lose…</p>
      ) : (
        preview.data &&
        (lost.length ? (
          <div className="banner banner-warning" role="status">
            Their tokens lose:{" "}
            {lost.map((s) => (
              <span key={s} className="scope-chip mono">
                {s}
              </span>
            ))}
          </div>
        ) : (
          <p role="status">Their tokens lose no scopes.</p>
        ))
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <Buttons
        pending={change.isPending}
        label={`Change role to ${roleLabel(role)}`}
        tone={lost.length ? "danger" : "normal"}
        disabled={preview.isPending || !!preview.error}
        onCancel={onClose}
        onConfirm={() =>
          change.mutate(
            { email: user.email, role },
            { onSuccess: onClose, onError: (e) => setError(formError(e).message) },
          )
        }
      />
    </Modal>
  );
}

export function DeactivateUserDialog({ user, onClose }: { user: UserView; onClose: () => void }) {
  const preview = useDeactivatePreview(user.email);
  const deactivate = useDeactivateUser();
  const [error, setError] = useState<string | null>(null);
  const n = preview.data;
  return (
    <Modal open onOpenChange={(o) => !o && !deactivate.isPending && onClose()} role="alertdialog" title={`Deactivate ${user.name}?`} description="They can no longer sign in. Their user API token and personal tokens are revoked (final); company tokens they created keep working.">
      <ErrorBanner error={preview.error} />
      {preview.isPending ? (
        <p className="muted">Counting their tokens…</p>
      ) : (
        n !== undefined && (
          <p className={n > 0 ? "banner banner-warning" : undefined} role="status">
            {n === 0 ? "They have no live tokens; nothing will be revoked." : `${n} ${n === 1 ? "token" : "tokens"} will be revoked.`}
          </p>
        )
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <Buttons
        pending={deactivate.isPending}
        label="Deactivate"
        tone="danger"
        disabled={preview.isPending}
        onCancel={onClose}
        onConfirm={() => deactivate.mutate(user.email, { onSuccess: onClose, onError: (e) => setError(formError(e).message) })}
      />
    </Modal>
  );
}

export function ReactivateUserDialog({ user, onClose }: { user: UserView; onClose: () => void }) {
  const reactivate = useReactivateUser();
  const [error, setError] = useState<string | null>(null);
  return (
    <Modal open onOpenChange={(o) => !o && !reactivate.isPending && onClose()} role="alertdialog" title={`Reactivate ${user.name}?`} description="They can sign in again. Tokens revoked when they were deactivated stay revoked; they create new ones.">
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <Buttons
        pending={reactivate.isPending}
        label="Reactivate"
        tone="normal"
        onCancel={onClose}
        onConfirm={() => reactivate.mutate(user.email, { onSuccess: onClose, onError: (e) => setError(formError(e).message) })}
      />
    </Modal>
  );
}
