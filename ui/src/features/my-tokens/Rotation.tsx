// Rotation with overlap, in a token's details: "Rotate…" asks how long the old token keeps
// working and reveals the successor once; a rotating token shows its pair (the successor, when
// it stops working, who still used it since the rotation) and "Finish now".
import { useState, type FormEvent } from "react";
import { ConfirmDialog } from "../../components/ui/ConfirmDialog";
import { Modal } from "../../components/ui/Modal";
import { RelativeTime } from "../../components/ui/RelativeTime";
import type { Revealed } from "../../bindings/Revealed";
import type { Source } from "../../bindings/Source";
import type { TokenInfo } from "../../bindings/TokenInfo";
import { ExactTime } from "../../components/ui/ExactTime";
import { placeError } from "../../lib/errors";
import { useFinishRotation, useRotateToken } from "./useMyTokens";

/** The overlap choices, in seconds; 0 revokes the old token at once. */
export const OVERLAPS: { label: string; seconds: number }[] = [
  { label: "None: the old token stops now", seconds: 0 },
  { label: "1 hour", seconds: 3_600 },
  { label: "24 hours", seconds: 86_400 },
  { label: "7 days", seconds: 7 * 86_400 },
  { label: "30 days", seconds: 30 * 86_400 },
];
const GRACES: { label: string; seconds: number }[] = [
  { label: "No grace", seconds: 0 },
  { label: "10 minutes", seconds: 600 },
  { label: "1 hour", seconds: 3_600 },
];

/** `defaultOverlap` in seconds: 24 hours for a planned rotation; a leaked token's rotation
 *  offers none (the leaked copy should stop now). */
export function RotateButton({ token, onRevealed, defaultOverlap = 86_400 }: { token: TokenInfo; onRevealed: (r: Revealed) => void; defaultOverlap?: number }) {
  const [open, setOpen] = useState(false);
  const [overlap, setOverlap] = useState(defaultOverlap);
  const [grace, setGrace] = useState(600);
  const [error, setError] = useState<string | null>(null);
  const rotate = useRotateToken();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    rotate.mutate(
      { id: token.id, overlapSeconds: overlap, graceSeconds: overlap === 0 ? 0 : grace },
      {
        onSuccess: (r) => {
          setOpen(false);
          onRevealed(r);
        },
        onError: (err) => {
          const placed = placeError(err, []);
          setError(placed.form ?? null);
        },
      },
    );
  };
  return (
    <>
      <button className="btn" type="button" onClick={() => setOpen(true)}>
        Rotate…
      </button>
      <Modal open={open} onOpenChange={setOpen} title={`Rotate “${token.name}”`} description="A new token replaces this one">
        <form onSubmit={submit} noValidate className="rotate-form">
          <p className="muted">
            The new token gets the same name, scopes, networks, rate limit and idle expiry, and a fresh expiry of the same length. It is shown once. The old
            token keeps working for the overlap, so deploys can move over; it stops earlier once the new token is used and the grace has passed.
          </p>
          <label htmlFor="rotate-overlap">Overlap</label>
          <select id="rotate-overlap" value={overlap} onChange={(e) => setOverlap(Number(e.target.value))}>
            {OVERLAPS.map((o) => (
              <option key={o.seconds} value={o.seconds}>
                {o.label}
              </option>
            ))}
          </select>
          <label htmlFor="rotate-grace">After the new token's first use</label>
          <select id="rotate-grace" value={grace} disabled={overlap === 0} onChange={(e) => setGrace(Number(e.target.value))}>
            {GRACES.map((g) => (
              <option key={g.seconds} value={g.seconds}>
                {g.label}
              </option>
            ))}
          </select>
          {error && (
            <div className="field-error" role="alert">
              {error}
            </div>
          )}
          <div className="actions">
            <button type="button" className="btn" onClick={() => setOpen(false)}>
              Cancel
            </button>
            <button type="submit" className="btn primary" disabled={rotate.isPending}>
              {rotate.isPending ? "Rotating…" : "Rotate"}
            </button>
          </div>
        </form>
      </Modal>
    </>
  );
}

/** A rotating token's pair: what replaces it, until when it works, and who still uses it. */
export function RotationPair({ token, sources }: { token: TokenInfo; sources: Source[] }) {
  const finish = useFinishRotation();
  const r = token.rotation;
  if (!r || token.status !== "rotating") return null;
  return (
    <section className="rotation" aria-label="Rotation">
      <h3>Rotating</h3>
      <p>
        Replaced by token {r.successor} <span className="mono">{r.successor_hint}</span>. Works until <ExactTime value={r.ends_at} />
        {r.successor_first_used_at ? (
          <>
            : the new token was first used <RelativeTime value={r.successor_first_used_at} />.
          </>
        ) : (
          <>
            , or {Math.round(r.grace_seconds / 60)} minutes after the new token's first use if that comes first.
          </>
        )}
      </p>
      <ConfirmDialog
        trigger={<button className="btn danger" type="button">Finish now</button>}
        title={`Finish the rotation of “${token.name}”?`}
        description="The old token is revoked now (reason: rotated). Anything below that still uses it stops working."
        confirmLabel="Finish now"
        tone="danger"
        onConfirm={() => finish.mutateAsync(token.id)}
      />
      <h4>Used since the rotation</h4>
      {sources.length === 0 ? (
        <p className="empty-inline">Nobody has used the old token since the rotation.</p>
      ) : (
        <div className="table-wrap">
          <table className="data-table compact" aria-label="Used since the rotation">
            <thead>
              <tr>
                <th scope="col">Last use</th>
                <th scope="col">Uses</th>
                <th scope="col">Address</th>
                <th scope="col">Client</th>
              </tr>
            </thead>
            <tbody>
              {sources.map((s) => (
                <tr key={`${s.ip ?? ""} ${s.user_agent ?? ""}`}>
                  <td>
                    <RelativeTime value={s.last_at} />
                  </td>
                  <td>{s.uses}</td>
                  <td className="mono">{s.ip ?? "—"}</td>
                  <td className="mono client">{s.user_agent ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
