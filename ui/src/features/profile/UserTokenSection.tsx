// The user API token: one per person; generating a new one invalidates the old one at once.
import { ConfirmDialog } from "../../components/ui/ConfirmDialog";
import { ErrorBanner } from "../../components/ui/ErrorBanner";
import { RelativeTime } from "../../components/ui/RelativeTime";
import { StatusBadge } from "../../components/ui/StatusBadge";
import type { Revealed } from "../../bindings/Revealed";
import { useRegenerateUserToken, useUserToken } from "./useProfile";

export function UserTokenSection({ onRevealed }: { onRevealed: (r: Revealed) => void }) {
  const token = useUserToken();
  const regenerate = useRegenerateUserToken();
  const generate = async () => onRevealed(await regenerate.mutateAsync());
  const current = token.data ?? null;

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
        {current ? (
          <ConfirmDialog
            trigger={
              <button type="button" className="btn">
                Generate new token
              </button>
            }
            title="Generate a new user API token?"
            description={`The current token (${current.hint}) stops working now. Scripts and tools that use it will be refused until you give them the new one.`}
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
