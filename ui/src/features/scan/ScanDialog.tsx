// Scan for leaked tokens: choose folders or files (or drop them here, or type a path), and
// see every Tessera token found in them by file, line and hint (never the token), with what it
// is here. A live one the person manages can be revoked (the audit log says where it was
// found) or rotated (the successor is revealed once) from its row.
import { useEffect, useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { ConfirmDialog } from "../../components/ui/ConfirmDialog";
import { ErrorBanner } from "../../components/ui/ErrorBanner";
import { Modal } from "../../components/ui/Modal";
import { RelativeTime } from "../../components/ui/RelativeTime";
import type { FoundAt } from "../../bindings/FoundAt";
import type { FoundStatus } from "../../bindings/FoundStatus";
import type { Revealed } from "../../bindings/Revealed";
import type { ScanReport } from "../../bindings/ScanReport";
import * as ipc from "../../lib/ipc";
import { RevealDialog } from "../reveal/RevealDialog";
import { RotateButton } from "../my-tokens/Rotation";

const WORDS: Record<FoundStatus, string> = {
  live: "LIVE",
  deactivated: "Deactivated",
  revoked: "Revoked",
  expired: "Expired",
  unknown: "Unknown",
  malformed: "Malformed",
};

function about(h: FoundAt): string {
  const t = h.finding.token;
  switch (h.finding.status) {
    case "unknown":
      return "A valid token this installation never issued.";
    case "malformed":
      return "Token-shaped, but the checksum is wrong: an edited or broken copy.";
    default:
      if (!t) return "Issued here, to a token you may not manage.";
      return `Token ${t.id} “${t.name}” of ${t.owner ? t.owner.email : "the company"}`;
  }
}

export function ScanDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (o: boolean) => void }) {
  const [paths, setPaths] = useState<string[]>([]);
  const [typed, setTyped] = useState("");
  const [report, setReport] = useState<ScanReport | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [revealed, setRevealed] = useState<Revealed | null>(null);
  const qc = useQueryClient();

  // Files and folders dropped on the window while the dialog is open join the list.
  useEffect(() => {
    if (!open) return;
    let stop: (() => void) | undefined;
    let cancelled = false;
    getCurrentWebview()
      .onDragDropEvent((e) => {
        const dropped = e.payload.type === "drop" ? e.payload.paths : null;
        if (dropped) setPaths((p) => [...new Set([...p, ...dropped])]);
      })
      .then((un) => (cancelled ? un() : (stop = un)))
      .catch(() => undefined);
    return () => {
      cancelled = true;
      stop?.();
    };
  }, [open]);

  const add = (more: string[] | null) => more && setPaths((p) => [...new Set([...p, ...more])]);
  const scan = async (e: FormEvent) => {
    e.preventDefault();
    const all = [...new Set([...paths, ...(typed.trim() ? [typed.trim()] : [])])];
    setBusy(true);
    setError(null);
    try {
      setReport(await ipc.scanForLeaks(all));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const changed = () => {
    for (const key of [["my-tokens"], ["all-tokens"], ["company-tokens"], ["dashboard"]]) void qc.invalidateQueries({ queryKey: key });
  };

  return (
    <Modal open={open} onOpenChange={onOpenChange} title="Scan for leaked tokens" size="wide" description="Find Tessera tokens in files and folders">
      <form onSubmit={(e) => void scan(e)} className="scan-form">
        <p className="muted">
          Folders are read recursively; .git folders and binary files are skipped. Tokens are shown by hint only, and nothing counts as a use. You can
          also drop files or folders on this window.
        </p>
        <div className="actions start">
          <button type="button" className="btn" onClick={() => void ipc.pickPathsToScan(true).then(add, setError)}>
            Choose folders…
          </button>
          <button type="button" className="btn" onClick={() => void ipc.pickPathsToScan(false).then(add, setError)}>
            Choose files…
          </button>
        </div>
        <label htmlFor="scan-path">Or type a path</label>
        <input id="scan-path" className="mono" value={typed} onChange={(e) => setTyped(e.target.value)} placeholder="/home/ada/src/billing" />
        {paths.length > 0 && (
          <ul className="scan-paths" aria-label="To scan">
            {paths.map((p) => (
              <li key={p}>
                <span className="mono">{p}</span>{" "}
                <button type="button" className="btn small" onClick={() => setPaths((all) => all.filter((x) => x !== p))}>
                  Remove
                </button>
              </li>
            ))}
          </ul>
        )}
        <ErrorBanner error={error} />
        <div className="actions">
          <button type="submit" className="btn primary" disabled={busy || (paths.length === 0 && !typed.trim())}>
            {busy ? "Scanning…" : "Scan"}
          </button>
        </div>
      </form>
      {report && (
        <section aria-label="Findings">
          <p role="status">
            {report.hits.length === 0
              ? `No Tessera tokens found in ${report.files} file${report.files === 1 ? "" : "s"}.`
              : `${report.hits.length} token${report.hits.length === 1 ? "" : "s"} found in ${report.files} file${report.files === 1 ? "" : "s"}; ${report.hits.filter((h) => h.finding.status === "live").length} live.`}
          </p>
          {report.skipped.length > 0 && <p className="muted small">Skipped: {report.skipped.join("; ")}</p>}
          {report.hits.length > 0 && (
            <div className="table-wrap">
              <table className="data-table compact" aria-label="Tokens found">
                <thead>
                  <tr>
                    <th scope="col">Where</th>
                    <th scope="col">Token</th>
                    <th scope="col">Here</th>
                    <th scope="col">What it is</th>
                    <th scope="col">Last used</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {report.hits.map((h) => (
                    <FindingRow key={`${h.file}:${h.line}:${h.finding.hint}`} hit={h} onChanged={changed} onRevealed={setRevealed} />
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      )}
      <RevealDialog revealed={revealed} onDone={() => setRevealed(null)} title="The new token" />
    </Modal>
  );
}

function FindingRow({ hit, onChanged, onRevealed }: { hit: FoundAt; onChanged: () => void; onRevealed: (r: Revealed) => void }) {
  const [status, setStatus] = useState<FoundStatus>(hit.finding.status);
  const t = hit.finding.token;
  const place = `${hit.file}:${hit.line}`;
  const manageable = t !== null && (status === "live" || status === "deactivated");
  return (
    <tr className={status === "live" ? "finding-live" : undefined}>
      <td className="mono path">{place}</td>
      <td className="mono">{hit.finding.hint}</td>
      <td>
        <strong>{WORDS[status]}</strong>
      </td>
      <td>{about(hit)}</td>
      <td>{t ? <RelativeTime value={t.last_used_at} empty="Never used" /> : "—"}</td>
      <td>
        {manageable && t && (
          <div className="actions start">
            <ConfirmDialog
              trigger={<button className="btn danger small" type="button">Revoke</button>}
              title={`Revoke “${t.name}”?`}
              description={`It was found in ${place}. Revoking is final; the audit log records where it leaked.`}
              confirmLabel="Revoke"
              tone="danger"
              onConfirm={async () => {
                await ipc.revokeLeakedToken(t.id, place);
                setStatus("revoked");
                onChanged();
              }}
            />
            {status === "live" && (
              <RotateButton
                token={t}
                defaultOverlap={0}
                onRevealed={(r) => {
                  onChanged();
                  onRevealed(r);
                }}
              />
            )}
          </div>
        )}
      </td>
    </tr>
  );
}
