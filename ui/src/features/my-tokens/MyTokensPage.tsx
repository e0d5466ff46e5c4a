// My tokens: the list, its empty state, the create dialog, the details panel and the reveal.
import { useState } from "react";
import { ErrorBanner } from "../../components/ui/ErrorBanner";
import type { Revealed } from "../../bindings/Revealed";
import { RevealDialog } from "../reveal/RevealDialog";
import { CreateTokenDialog } from "./CreateTokenDialog";
import { TokenDetailsPanel } from "./TokenDetailsPanel";
import { TokenTable } from "./TokenTable";
import { useGrantableScopes, useMyTokens, usePolicy } from "./useMyTokens";

export function MyTokensPage() {
  const tokens = useMyTokens();
  // Fetched with the page so the create dialog opens instantly.
  usePolicy();
  useGrantableScopes();
  const [creating, setCreating] = useState(false);
  const [openId, setOpenId] = useState<number | null>(null);
  const [revealed, setRevealed] = useState<Revealed | null>(null);

  const createButton = (
    <button type="button" className="btn primary" onClick={() => setCreating(true)}>
      Create token
    </button>
  );

  return (
    <>
      <div className="page-header">
        <h1>My tokens</h1>
        {tokens.data && tokens.data.length > 0 && createButton}
      </div>
      {tokens.isPending && <p className="muted">Loading…</p>}
      <ErrorBanner error={tokens.error} />
      {tokens.data &&
        (tokens.data.length === 0 ? (
          <div className="empty-state card">
            <h2>No personal tokens yet</h2>
            <p>
              A personal token lets a script, a tool such as Postman or curl, or another service call an API as you,
              limited to the scopes you choose. Give each use its own token with a clear name, a short lifetime and
              only the scopes it needs, so you can revoke one without breaking the others.
            </p>
            {createButton}
          </div>
        ) : (
          <TokenTable tokens={tokens.data} onOpen={setOpenId} />
        ))}
      <CreateTokenDialog
        open={creating}
        onOpenChange={setCreating}
        onCreated={(r) => {
          setCreating(false);
          setRevealed(r);
        }}
      />
      <TokenDetailsPanel id={openId} onClose={() => setOpenId(null)} />
      <RevealDialog revealed={revealed} onDone={() => setRevealed(null)} />
    </>
  );
}
