// "Test a token": every rule Tessera applies to a token (pasted, or one the person manages),
// with what each compared: format, checksum, status, expiry, idle expiry, owner, network, each
// scope asked about, rate-limit headroom. The backend judges; nothing is recorded as a use and
// the pasted token is kept in this form only.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import type { Explanation } from "../../bindings/Explanation";
import type { Field as FieldName } from "../../bindings/Field";
import type { TokenInfo } from "../../bindings/TokenInfo";
import { Field } from "../../components/ui/Field";
import { Modal } from "../../components/ui/Modal";
import { placeError, type FormErrors } from "../../lib/errors";
import * as ipc from "../../lib/ipc";

/** A request to explain, from a usage row: that token, address and moment. */
export type ExplainPreset = { id: number; ip?: string | null; at?: string | null };

const SHOWN: readonly FieldName[] = ["token", "id", "scopes", "ip", "at"];

export function ExplainDialog({
  open,
  onOpenChange,
  preset,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  preset?: ExplainPreset | null;
}) {
  return (
    <Modal
      open={open}
      onOpenChange={onOpenChange}
      title="Test a token"
      description="Every rule Tessera applies, with what it compared. Nothing is recorded as a use."
    >
      {open && <ExplainForm preset={preset ?? null} />}
    </Modal>
  );
}

/** Tokens the person may pick: their own, and the company's when they manage those. */
function usePickable() {
  return useQuery({
    queryKey: ["explain-pickable"],
    queryFn: async (): Promise<TokenInfo[]> => {
      const mine = await ipc.listMyTokens();
      const company = await ipc.listCompanyTokens().catch(() => [] as TokenInfo[]);
      return [...mine, ...company];
    },
  });
}

function ExplainForm({ preset }: { preset: ExplainPreset | null }) {
  const [source, setSource] = useState<"paste" | "pick">(preset ? "pick" : "paste");
  const [token, setToken] = useState("");
  const [picked, setPicked] = useState<string>(preset ? String(preset.id) : "");
  const [scopes, setScopes] = useState("");
  const [ip, setIp] = useState(preset?.ip ?? "");
  const [at, setAt] = useState(preset?.at ?? "");
  const [errors, setErrors] = useState<FormErrors>({});
  const pickable = usePickable();
  const explain = useMutation({ mutationFn: ipc.explainToken });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: FormErrors = {};
    if (source === "paste" && !token.trim()) errs.token = "Paste the token to test.";
    if (source === "pick" && !picked) errs.id = "Pick a token.";
    setErrors(errs);
    if (Object.keys(errs).length) return;
    explain.mutate(
      {
        token: source === "paste" ? token.trim() : null,
        id: source === "pick" ? Number(picked) : null,
        scopes: scopes.split(/[\s,]+/).filter(Boolean),
        ip: ip.trim() || null,
        at: at.trim() || null,
      },
      { onSuccess: () => setErrors({}), onError: (err) => setErrors(placeError(err, SHOWN)) },
    );
  };

  const options = pickable.data ?? [];
  const presetMissing = preset && !options.some((t) => t.id === preset.id);
  return (
    <>
      <form onSubmit={submit} noValidate className="form-grid">
        <fieldset className="segmented" aria-label="Which token">
          <label className="segment">
            <input type="radio" name="explain-source" checked={source === "paste"} onChange={() => setSource("paste")} />
            Paste a token
          </label>
          <label className="segment">
            <input type="radio" name="explain-source" checked={source === "pick"} onChange={() => setSource("pick")} />
            One I manage
          </label>
        </fieldset>
        {source === "paste" ? (
          <Field label="Token" error={errors.token} hint="Kept in this form only; never stored or logged.">
            <input type="password" value={token} onChange={(e) => setToken(e.target.value)} autoComplete="off" spellCheck={false} autoFocus />
          </Field>
        ) : (
          <Field label="Token to test" error={errors.id}>
            <select value={picked} onChange={(e) => setPicked(e.target.value)}>
              <option value="">Choose…</option>
              {presetMissing && <option value={String(preset.id)}>Token {preset.id}</option>}
              {options.map((t) => (
                <option key={t.id} value={String(t.id)}>
                  {t.name} ({t.hint}, {t.status})
                </option>
              ))}
            </select>
          </Field>
        )}
        <Field label="Scopes to ask about" error={errors.scopes} hint="Optional, separated by spaces, e.g. me:read tokens:write.">
          <input value={scopes} onChange={(e) => setScopes(e.target.value)} autoComplete="off" spellCheck={false} />
        </Field>
        <Field label="Address" error={errors.ip} hint="Optional. The address it is presented from, e.g. 203.0.113.7.">
          <input value={ip} onChange={(e) => setIp(e.target.value)} autoComplete="off" spellCheck={false} />
        </Field>
        <Field label="At" error={errors.at} hint="Optional. A moment in RFC 3339, e.g. 2027-01-31T17:00:00Z; empty means now.">
          <input value={at} onChange={(e) => setAt(e.target.value)} autoComplete="off" spellCheck={false} />
        </Field>
        {errors.form && (
          <p className="form-error" role="alert">
            {errors.form}
          </p>
        )}
        <div className="actions">
          <button type="submit" className="btn primary" disabled={explain.isPending} aria-busy={explain.isPending}>
            {explain.isPending ? "Testing…" : "Test"}
          </button>
        </div>
      </form>
      {explain.data && !explain.isPending && <ExplanationView e={explain.data} />}
    </>
  );
}

export function ExplanationView({ e }: { e: Explanation }) {
  return (
    <section className="explanation" aria-label="Result">
      <p className={`outcome ${e.accepted ? "outcome-ok" : "outcome-refused"}`} role="status">
        <span aria-hidden="true">{e.accepted ? "✓" : "✕"}</span>{" "}
        {e.accepted ? "Accepted" : `Refused: ${e.outcome.replace(/_/g, " ")}`}
        {e.hint && <span className="muted small"> — token {e.token_id} ({e.hint})</span>}
      </p>
      <div className="table-wrap">
        <table className="data-table compact">
          <caption className="visually-hidden">Every rule and what it compared</caption>
          <thead>
            <tr>
              <th scope="col">Rule</th>
              <th scope="col">Result</th>
              <th scope="col">What was compared</th>
            </tr>
          </thead>
          <tbody>
            {e.checks.map((c) => (
              <tr key={c.rule} className={c.passed ? undefined : "row-failed"}>
                <td className="mono">{c.rule}</td>
                <td>
                  <span className={`outcome ${c.passed ? "outcome-ok" : "outcome-refused"} nowrap`}>
                    <span aria-hidden="true">{c.passed ? "✓" : "✕"}</span> {c.passed ? "pass" : "fail"}
                  </span>
                </td>
                <td>{c.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
