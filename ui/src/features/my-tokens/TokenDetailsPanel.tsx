// Everything known about one token, its recent uses, and the status actions (each confirmed).
import { useState, type FormEvent, type ReactNode } from "react";
import { Tab, TabList, TabPanel, Tabs } from "react-aria-components";
import { ConfirmDialog } from "../../components/ui/ConfirmDialog";
import { ErrorBanner } from "../../components/ui/ErrorBanner";
import { Modal } from "../../components/ui/Modal";
import { RelativeTime } from "../../components/ui/RelativeTime";
import { RepeatCount } from "../../components/ui/RepeatCount";
import { HoneytokenBadge, StatusBadge } from "../../components/ui/StatusBadge";
import type { TokenDetail } from "../../bindings/TokenDetail";
import type { TokenInfo } from "../../bindings/TokenInfo";
import type { UsageEntry } from "../../bindings/UsageEntry";
import { ExactTime } from "../../components/ui/ExactTime";
import { UsagePanel } from "../usage/UsagePanel";
import { formError, placeError } from "../../lib/errors";
import { useDeleteToken, useSetTokenAlerts, useSetTokenNote, useSetTokenStatus, useTokenDetail } from "./useMyTokens";
import type { Revealed } from "../../bindings/Revealed";
import { RevealDialog } from "../reveal/RevealDialog";
import { RotateButton, RotationPair } from "./Rotation";
import { useProfile } from "../profile/useProfile";

export function TokenDetailsPanel({ id, onClose }: { id: number | null; onClose: () => void }) {
  const detail = useTokenDetail(id);
  const name = detail.data?.token.name;
  return (
    <Modal open={id !== null} onOpenChange={(o) => !o && onClose()} title={name ?? "Token"} variant="sheet" description="Token details">
      {detail.isPending && <p className="muted">Loading…</p>}
      <ErrorBanner error={detail.error} />
      {detail.data && (
        <Tabs className="tabs">
          <TabList aria-label="Token" className="tab-list">
            <Tab id="details" className="tab">
              Details
            </Tab>
            <Tab id="usage" className="tab">
              Usage
            </Tab>
          </TabList>
          <TabPanel id="details" className="tab-panel">
            <DetailBody detail={detail.data} onDeleted={onClose} />
          </TabPanel>
          <TabPanel id="usage" className="tab-panel">
            <UsagePanel id={detail.data.token.id} />
          </TabPanel>
        </Tabs>
      )}
    </Modal>
  );
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

function DetailBody({ detail, onDeleted }: { detail: TokenDetail; onDeleted: () => void }) {
  const t = detail.token;
  const [revealed, setRevealed] = useState<Revealed | null>(null);
  return (
    <div className="details">
      <div className="details-status">
        <StatusBadge status={t.status} />
        <span className="mono">{t.hint}</span>
        {t.honeytoken && <HoneytokenBadge />}
      </div>
      {t.honeytoken && (
        <p className="muted">
          A honeytoken: it never grants access. Every request with it is refused exactly like an unknown token, and admins are alerted (Dashboard, a
          desktop notification, and the audit log's honeytoken.used).
        </p>
      )}
      <TokenActions token={t} onDeleted={onDeleted} onRevealed={setRevealed} />
      <RevealDialog revealed={revealed} onDone={() => setRevealed(null)} title="The new token" />
      <RotationPair token={t} sources={detail.rotationSources} />
      <dl className="meta-grid">
        {t.kind === "company" ? (
          <Row label="Owner">Company token, created by {t.created_by}</Row>
        ) : (
          t.owner && (
            <Row label="Owner">
              {t.owner.name} <span className="muted">({t.owner.email})</span>
            </Row>
          )
        )}
        <Row label="Description">{t.description ? t.description : <span className="muted">No description</span>}</Row>
        <Row label="Note">
          <NoteEditor token={t} />
        </Row>
        <Row label="Scopes">
          {t.scopes.length ? (
            <span className="scope-list">
              {t.scopes.map((s) => (
                <span key={s} className="scope-chip mono">
                  {s}
                </span>
              ))}
            </span>
          ) : (
            <span className="muted">None</span>
          )}
        </Row>
        <Row label="Created">
          <ExactTime value={t.created_at} empty="Unknown" /> <span className="muted small">by {t.created_by}</span>
        </Row>
        <Row label="Expires">
          <ExactTime value={t.expires_at} empty="No expiry" />
        </Row>
        <Row label="Idle expiry">
          {t.idle_days ? (
            <>
              After {t.idle_days} {t.idle_days === 1 ? "day" : "days"} unused
              {t.idle_expires_at && (
                <>
                  {" "}
                  (next: <ExactTime value={t.idle_expires_at} empty="" />)
                </>
              )}
            </>
          ) : (
            <span className="muted">Off</span>
          )}
        </Row>
        <Row label="Allowed networks">
          {t.allowed_networks.length ? <span className="mono">{t.allowed_networks.join(", ")}</span> : <span className="muted">Any address</span>}
        </Row>
        <Row label="Rate limit">{t.rate_limit} requests per minute</Row>
        {!t.honeytoken && (
          <Row label="New-source alerts">
            <AlertsSwitch token={t} />
          </Row>
        )}
        {t.status_changed_at && (
          <Row label="Status changed">
            <ExactTime value={t.status_changed_at} empty="" />
          </Row>
        )}
        <Row label="Last used">
          <ExactTime value={t.last_used_at} empty="Never used" />
        </Row>
        <Row label="Last address">{t.last_used_ip ? <span className="mono">{t.last_used_ip}</span> : <span className="muted">None</span>}</Row>
        <Row label="Last client">{t.last_used_agent ? <span className="mono">{t.last_used_agent}</span> : <span className="muted">None</span>}</Row>
        <Row label="Uses">
          {t.use_count} accepted, {t.refused_count} refused
        </Row>
      </dl>
      <h3>Recent uses</h3>
      <RecentUses uses={detail.recentUses} />
    </div>
  );
}

/** Whether the token alerts when used from a network or client it was never used from. */
function AlertsSwitch({ token }: { token: TokenInfo }) {
  const change = useSetTokenAlerts();
  const on = token.alert_new_sources;
  return (
    <span className="alerts-switch">
      {on ? "On: a new network (/24 or /48) or client is alerted" : <span className="muted">Off</span>}{" "}
      <button type="button" className="btn small" disabled={change.isPending} onClick={() => change.mutate({ id: token.id, on: !on })}>
        {change.isPending ? "Saving…" : on ? "Turn off" : "Turn on"}
      </button>
      {change.error && (
        <span className="field-error" role="alert">
          {" "}
          {formError(change.error).message}
        </span>
      )}
    </span>
  );
}

/** The token's note, changeable by whoever may manage the token whatever its status (a revoked
 *  one can still be given a note such as "revoked: leaked in repo X"). */
function NoteEditor({ token }: { token: TokenInfo }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(token.note);
  const [error, setError] = useState<string | null>(null);
  const save = useSetTokenNote();

  if (!editing) {
    return (
      <span className="note">
        {token.note ? <span className="note-text">{token.note}</span> : <span className="muted">No note</span>}{" "}
        <button
          type="button"
          className="btn small"
          onClick={() => {
            setText(token.note);
            setError(null);
            setEditing(true);
          }}
        >
          {token.note ? "Edit note" : "Add note"}
        </button>
      </span>
    );
  }
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate(
      { id: token.id, note: text },
      {
        onSuccess: () => setEditing(false),
        onError: (err) => {
          const placed = placeError(err, ["note"]);
          setError(placed.note ?? placed.form ?? null);
        },
      },
    );
  };
  return (
    <form className="note-form" onSubmit={submit} noValidate>
      <input
        aria-label="Note"
        value={text}
        maxLength={2100}
        onChange={(e) => {
          setText(e.target.value);
          setError(null);
        }}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? "note-error" : undefined}
        autoFocus
      />
      <button type="submit" className="btn primary small" disabled={save.isPending}>
        {save.isPending ? "Saving…" : "Save note"}
      </button>
      <button type="button" className="btn small" onClick={() => setEditing(false)}>
        Cancel
      </button>
      {error && (
        <div id="note-error" className="field-error" role="alert">
          {error}
        </div>
      )}
    </form>
  );
}

function RecentUses({ uses }: { uses: UsageEntry[] }) {
  if (uses.length === 0) return <p className="empty-inline">This token has not been used yet.</p>;
  return (
    <div className="table-wrap">
      <table className="data-table compact">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Outcome</th>
            <th scope="col">Address</th>
            <th scope="col">Method</th>
            <th scope="col">Path</th>
            <th scope="col">Client</th>
          </tr>
        </thead>
        <tbody>
          {uses.map((u) => (
            <tr key={u.id}>
              <td>
                <RelativeTime value={u.at} />
                <RepeatCount uses={u.uses} />
              </td>
              <td>
                <span className={`outcome ${u.status < 400 ? "outcome-ok" : "outcome-refused"}`}>
                  <span aria-hidden="true">{u.status < 400 ? "✓" : "✕"}</span> {u.outcome}{" "}
                  <span className="muted small">
                    ({u.status}
                    {u.via ? `, ${u.via}` : ""})
                  </span>
                </span>
              </td>
              <td className="mono">{u.ip ?? "—"}</td>
              <td className="mono">{u.method}</td>
              <td className="mono path">{u.path}</td>
              <td className="mono client">{u.user_agent ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function TokenActions({ token, onDeleted, onRevealed }: { token: TokenInfo; onDeleted: () => void; onRevealed: (r: Revealed) => void }) {
  const setStatus = useSetTokenStatus();
  const del = useDeleteToken();
  const canDeactivate = token.status === "active" || token.status === "rotating";
  const canActivate = token.status === "deactivated";
  const canRevoke = token.status === "active" || token.status === "deactivated" || token.status === "rotating";
  // The successor's plaintext is shown only to whoever will use it: a person's token is
  // rotated by its owner alone (the backend refuses anyone else), a company token by those
  // who manage it.
  const me = useProfile();
  const canRotate =
    token.status === "active" && !token.honeytoken && (token.kind === "company" || (me.data !== undefined && token.owner?.email === me.data.email));
  return (
    <div className="actions start token-actions">
      {canRotate && <RotateButton token={token} onRevealed={onRevealed} />}
      {canDeactivate && (
        <ConfirmDialog
          trigger={<button className="btn" type="button">Deactivate</button>}
          title={`Deactivate “${token.name}”?`}
          description="Requests with this token are refused until you activate it again."
          confirmLabel="Deactivate"
          onConfirm={() => setStatus.mutateAsync({ id: token.id, action: "deactivate" })}
        />
      )}
      {canActivate && (
        <ConfirmDialog
          trigger={<button className="btn" type="button">Activate</button>}
          title={`Activate “${token.name}”?`}
          description="The token works again from now on, within its scopes, networks and expiry."
          confirmLabel="Activate"
          onConfirm={() => setStatus.mutateAsync({ id: token.id, action: "activate" })}
        />
      )}
      {canRevoke && (
        <ConfirmDialog
          trigger={<button className="btn danger" type="button">Revoke</button>}
          title={`Revoke “${token.name}”?`}
          description="Revoking is final: the token stops working now and cannot be activated again. Its history stays."
          confirmLabel="Revoke"
          tone="danger"
          onConfirm={() => setStatus.mutateAsync({ id: token.id, action: "revoke" })}
        />
      )}
      <ConfirmDialog
        trigger={<button className="btn danger" type="button">Delete</button>}
        title={`Delete “${token.name}”?`}
        description="The token stops working and disappears from this list. The audit log keeps a record."
        confirmLabel="Delete"
        tone="danger"
        onConfirm={async () => {
          await del.mutateAsync(token.id);
          onDeleted();
        }}
      />
    </div>
  );
}
