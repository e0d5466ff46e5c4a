import type { TokenStatus } from "../../bindings/TokenStatus";

const LABELS: Record<TokenStatus, string> = {
  active: "Active",
  rotating: "Rotating",
  deactivated: "Deactivated",
  revoked: "Revoked",
  expired: "Expired",
};

/** Token status as a word with a colour and a shape, never colour alone. */
export function StatusBadge({ status }: { status: TokenStatus }) {
  return (
    <span className={`badge badge-${status}`}>
      <span className="badge-dot" aria-hidden="true" />
      {LABELS[status]}
    </span>
  );
}

/** Marks a honeytoken (shown to admins only: nobody else is sent one). */
export function HoneytokenBadge() {
  return (
    <span className="badge badge-honeytoken" title="Never grants access; alerts on any use">
      <span className="badge-dot" aria-hidden="true" />
      Honeytoken
    </span>
  );
}
