// Company tokens (admin, vrm_admin): owned by the company, description required, creator
// shown; they survive their creator's deactivation. Same create dialog and one-time reveal.
// Below them, the OAuth clients, which get short-lived tokens instead of holding one.
import { useState } from "react";
import { ErrorBanner } from "../../components/ui/ErrorBanner";
import type { Revealed } from "../../bindings/Revealed";
import { CreateTokenDialog } from "../my-tokens/CreateTokenDialog";
import { TokenDetailsPanel } from "../my-tokens/TokenDetailsPanel";
import { TokenTable } from "../my-tokens/TokenTable";
import { useCompanyTokens, useGrantableScopes, usePolicy } from "../my-tokens/useMyTokens";
import { RevealDialog } from "../reveal/RevealDialog";
import { ClientsSection } from "../clients/ClientsSection";

export function CompanyTokensPage() {
  const tokens = useCompanyTokens();
  usePolicy();
  useGrantableScopes();
  const [creating, setCreating] = useState(false);
  const [openId, setOpenId] = useState<number | null>(null);
  const [revealed, setRevealed] = useState<Revealed | null>(null);
  const createButton = (
    <button type="button" className="btn primary" onClick={() => setCreating(true)}>
      Create company token
    </button>
  );
  return (
    <>
      <div className="page-header">
        <h1>Company tokens</h1>
        {tokens.data && tokens.data.length > 0 && createButton}
      </div>
      {tokens.isPending && <p className="muted">Loading…</p>}
      <ErrorBanner error={tokens.error} />
      {tokens.data &&
        (tokens.data.length === 0 ? (
          <div className="empty-state card">
            <h2>No company tokens yet</h2>
            <p>
              A company token belongs to the company, not to a person: use it for services and integrations that must keep
              working when people change roles or leave. Every company token needs a description saying what uses it.
            </p>
            {createButton}
          </div>
        ) : (
          <TokenTable tokens={tokens.data} onOpen={setOpenId} showCreator caption="Company tokens with their creators. Choose a name to see details." />
        ))}
      <CreateTokenDialog
        variant="company"
        open={creating}
        onOpenChange={setCreating}
        onCreated={(r) => {
          setCreating(false);
          setRevealed(r);
        }}
      />
      <TokenDetailsPanel id={openId} onClose={() => setOpenId(null)} />
      <RevealDialog revealed={revealed} onDone={() => setRevealed(null)} />
      <ClientsSection />
    </>
  );
}
