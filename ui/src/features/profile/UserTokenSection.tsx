// The user API token: one per person; generating a new one invalidates the old one at once,
// unless the person chooses an overlap (then the old one is rotating until it ends).
import { useState } from "react";
import { ConfirmDialog } from "../../components/ui/ConfirmDialog";
import { ErrorBanner } from "../../components/ui/ErrorBanner";
import { RelativeTime } from "../../components/ui/RelativeTime";
import { StatusBadge } from "../../components/ui/StatusBadge";
import type { Revealed } from "../../bindings/Revealed";
import { useRegenerateUserToken, useUserToken } from "./useProfile";
import { OVERLAPS } from "../my-tokens/Rotation";

export function UserTokenSection({ onRevealed }: { onRevealed: (r: Revealed) => void }) {
  const token = useUserToken();
  const regenerate = useRegenerateUserToken();
  const [overlap, setOverlap] = useState(0);
  const generate = async () => onRevealed(await regenerate.mutateAsync(overlap));
  const current = token.data ?? null;
  const overlapLabel = OVERLAPS.find((o) => o.seconds === overlap)?.label ?? "";

  return (
    <section className="card section" aria-labelledby="user-token-title">
      <h2 id="user-token-title">User API token</h2>
      <p className="muted">
        Your personal key to Tessera's API, with your role's rights. You have one at a time; generating a new one replaces it.
      </p>
      <ErrorBanner error={token.error} />
      {token.isSuccess &&
        (current ? (
          <dl className="meta-grid">
            <dt>Token</dt>
            <dd className="mono">{current.hint}</dd>
            <dt>Status</dt>
            <dd>
              <StatusBadge status={current.status} />
            </dd>
            <dt>Created</dt>
            <dd>
              <RelativeTime value={current.created_at} />
            </dd>
            <dt>Last used</dt>
            <dd>
              <RelativeTime value={current.last_used_at} empty="Never used" />
            </dd>
          </dl>
        ) : (
          <p className="empty-inline">No user API token yet.</p>
        ))}
      <div className="actions start">
        {current && current.status === "active" && (
          <label className="inline-field">
            The current token keeps working:{" "}
            <select aria-label="The current token keeps working" value={overlap} onChange={(e) => setOverlap(Number(e.target.value))}>
              {OVERLAPS.map((o) => (
                <option key={o.seconds} value={o.seconds}>
                  {o.seconds === 0 ? "No: it stops now" : `for ${o.label}`}
                </option>
              ))}
            </select>
          </label>
        )}
        {current ? (
          <ConfirmDialog
            trigger={
              <button type="button" className="btn">
                Generate new token
              </button>
            }
            title="Generate a new user API token?"
            description={
              overlap === 0 || current.status !== "active"
                ? `The current token (${current.hint}) stops working now. Scripts and tools that use it will be refused until you give them the new one.`
                : `The current token (${current.hint}) keeps working for ${overlapLabel}, or until 10 minutes after the new one is first used, then stops.`
            }
            confirmLabel="Generate new token"
            tone="danger"
            onConfirm={generate}
          />
        ) : (
          <button type="button" className="btn primary" onClick={() => void generate().catch(() => undefined)} disabled={regenerate.isPending || !token.isSuccess}>
            Generate new token
          </button>
        )}
      </div>
      {!current && <ErrorBanner error={regenerate.error} />}
    </section>
  );
}
