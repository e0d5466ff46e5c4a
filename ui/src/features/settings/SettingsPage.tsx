// Settings (admin): token policy (including the clipboard timeout), custom scopes, and the
// in-app HTTPS API server with its CA certificate export.
import { ConnectionPanel } from "../connection/ConnectionPanel";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { ErrorBanner } from "../../components/ui/ErrorBanner";
import { Field } from "../../components/ui/Field";
import type { ApiStatus } from "../../bindings/ApiStatus";
import type { Field as FieldName } from "../../bindings/Field";
import type { Policy } from "../../bindings/Policy";
import { placeError, type FormErrors } from "../../lib/errors";
import * as ipc from "../../lib/ipc";
import { placeScopeError, scopeNameError } from "./scopeForm";

type NumberKey = { [K in keyof Policy]: Policy[K] extends number ? K : never }[keyof Policy];
type BoolKey = { [K in keyof Policy]: Policy[K] extends boolean ? K : never }[keyof Policy];

// Each key is also how the backend's errors name the value (a `Field`), so an error lands
// beside its input. `min`..`max` is the range tessera-core's `Policy::validate` accepts (0 is
// never allowed); a default is also checked against its maximum, by the backend.
const NUMBERS: { key: NumberKey; label: string; help: string; unit: string; min: number; max: number }[] = [
  { key: "max_lifetime_days", label: "Maximum lifetime", unit: "days", min: 1, max: 3650, help: "The longest expiry anyone may choose: 1 to 3,650 days." },
  { key: "default_lifetime_days", label: "Default lifetime", unit: "days", min: 1, max: 3650, help: "The expiry preselected in the create dialog: 1 day up to the maximum lifetime." },
  {
    key: "default_idle_days",
    label: "Idle expiry",
    unit: "days",
    min: 1,
    max: 3650,
    help: "A token unused this long expires; each successful use renews it. Preselected for new tokens (their creator may turn it off): 1 to 3,650 days.",
  },
  { key: "max_rate_limit", label: "Maximum rate limit", unit: "requests / minute", min: 1, max: 1_000_000, help: "The most any single token may be allowed: 1 to 1,000,000." },
  { key: "default_rate_limit", label: "Default rate limit", unit: "requests / minute", min: 1, max: 1_000_000, help: "Preselected for new tokens: 1 up to the maximum rate limit." },
  { key: "max_personal_tokens", label: "Personal tokens per person", unit: "tokens", min: 1, max: 10_000, help: "How many live personal tokens each person may hold: 1 to 10,000." },
  {
    key: "clipboard_seconds",
    label: "Clipboard timeout",
    unit: "seconds",
    min: 5,
    max: 600,
    help: "After copying a token, Tessera clears the clipboard after this long if it still holds the token: 5 to 600 seconds.",
  },
  {
    key: "usage_retention_days",
    label: "Keep usage history",
    unit: "days",
    min: 1,
    max: 3650,
    help: "Per-request usage events older than this are deleted; 1 to 3,650 days. Counts and last use stay.",
  },
];
const BOOLS: { key: BoolKey; label: string; help: string; risky?: boolean }[] = [
  { key: "expiry_required", label: "Every token must expire", help: "Hides “No expiry” in the create dialog and refuses tokens without one." },
  {
    key: "query_param_tokens",
    label: "Accept tokens in a URL query parameter (api_token, key)",
    help: "Risky: URLs end up in server and proxy logs, browser history and Referer headers. Leave off unless a client cannot send headers.",
    risky: true,
  },
];

/** 1000000 → "1,000,000", as the help texts write it. */
const grouped = (n: number) => n.toLocaleString("en-US");

export function SettingsPage({ api }: { api: ApiStatus }) {
  const policy = useQuery({ queryKey: ["policy-settings"], queryFn: ipc.getPolicySettings });
  return (
    <>
      <div className="page-header">
        <h1>Settings</h1>
      </div>
      <section className="card section" aria-labelledby="policy-h">
        <h2 id="policy-h">Token policy</h2>
        <ErrorBanner error={policy.error} />
        {policy.isPending && <p className="muted">Loading…</p>}
        {policy.data && <PolicyForm initial={policy.data} />}
      </section>
      <ScopesSection />
      <ConnectionPanel />
      <ApiSection api={api} />
    </>
  );
}

function PolicyForm({ initial }: { initial: Policy }) {
  const qc = useQueryClient();
  const [text, setText] = useState<Record<NumberKey, string>>(() => Object.fromEntries(NUMBERS.map((n) => [n.key, String(initial[n.key])])) as Record<NumberKey, string>);
  // Fields left out of the form (none today) keep the values last loaded.
  const [flags, setFlags] = useState<Record<BoolKey, boolean>>({ expiry_required: initial.expiry_required, query_param_tokens: initial.query_param_tokens });
  const [errors, setErrors] = useState<FormErrors>({});
  const [saved, setSaved] = useState(false);
  const show = (p: Policy) => {
    setText(Object.fromEntries(NUMBERS.map((n) => [n.key, String(p[n.key])])) as Record<NumberKey, string>);
    setFlags({ expiry_required: p.expiry_required, query_param_tokens: p.query_param_tokens });
  };
  const save = useMutation({
    mutationFn: ipc.updatePolicy,
    onSuccess: (p) => {
      // The form stays mounted (so "Saved" stays visible) and shows what the backend stored.
      show(p);
      qc.setQueryData(["policy-settings"], p);
      void qc.invalidateQueries({ queryKey: ["policy"] });
      void qc.invalidateQueries({ queryKey: ["audit"] });
      setSaved(true);
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    const errs: typeof errors = {};
    for (const n of NUMBERS) {
      const t = text[n.key].trim();
      if (!/^\d{1,9}$/.test(t) || Number(t) < n.min || Number(t) > n.max) errs[n.key] = `Enter a whole number from ${grouped(n.min)} to ${grouped(n.max)}.`;
    }
    setErrors(errs);
    if (Object.keys(errs).length) return;
    const policy = { ...initial, ...flags, ...Object.fromEntries(NUMBERS.map((n) => [n.key, Number(text[n.key])])) } as Policy;
    save.mutate(policy, {
      onError: (err) => {
        setErrors(placeError(err, NUMBERS.map((n): FieldName => n.key)));
      },
    });
  };

  return (
    <form className="policy-form" onSubmit={submit} noValidate>
      <div className="policy-grid">
        {NUMBERS.map((n) => (
          <Field key={n.key} label={`${n.label} (${n.unit})`} hint={n.help} error={errors[n.key]}>
            <input
              inputMode="numeric"
              value={text[n.key]}
              onChange={(e) => {
                setText((t) => ({ ...t, [n.key]: e.target.value }));
                setErrors((x) => ({ ...x, [n.key]: undefined, form: undefined }));
                setSaved(false);
              }}
            />
          </Field>
        ))}
      </div>
      {BOOLS.map((b) => (
        <div key={b.key} className={`field ${b.risky ? "risky" : ""}`}>
          <label className="check">
            <input
              type="checkbox"
              checked={flags[b.key]}
              aria-describedby={`${b.key}-help`}
              onChange={(e) => {
                setFlags((f) => ({ ...f, [b.key]: e.target.checked }));
                setSaved(false);
              }}
            />
            <span>{b.label}</span>
          </label>
          <div id={`${b.key}-help`} className="field-hint">
            {b.help}
          </div>
        </div>
      ))}
      {errors.form && (
        <p className="form-error" role="alert">
          {errors.form}
        </p>
      )}
      <div className="actions start">
        <button type="submit" className="btn primary" disabled={save.isPending} aria-busy={save.isPending}>
          {save.isPending ? "Saving…" : "Save policy"}
        </button>
        {saved && (
          <span className="outcome-ok" role="status">
            ✓ Saved. Applies to new tokens and to every request from now on.
          </span>
        )}
      </div>
    </form>
  );
}

function ScopesSection() {
  const qc = useQueryClient();
  const scopes = useQuery({ queryKey: ["scopes"], queryFn: ipc.listScopes });
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [errors, setErrors] = useState<FormErrors>({});
  const add = useMutation({
    mutationFn: () => ipc.addScope(name.trim(), description.trim()),
    onSuccess: () => {
      setName("");
      setDescription("");
      void qc.invalidateQueries({ queryKey: ["scopes"] });
      void qc.invalidateQueries({ queryKey: ["grantable-scopes"] });
    },
    onError: (err) => {
      setErrors(placeScopeError(err));
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: typeof errors = {};
    if (!/^[a-z][a-z0-9_.:-]*$/.test(name.trim())) errs.name = "Lower-case letters, digits and . _ : - , starting with a letter, e.g. billing:read.";
    if (!description.trim()) errs.description = "Say what a token with this scope may do.";
    setErrors(errs);
    if (!Object.keys(errs).length) add.mutate();
  };
  return (
    <section className="card section" aria-labelledby="scopes-h">
      <h2 id="scopes-h">Scopes</h2>
      <p className="muted">Built-in scopes guard Tessera's own API. Add custom scopes for your services to check through the verify endpoint.</p>
      <ErrorBanner error={scopes.error} />
      {scopes.data && (
        <div className="table-wrap">
          <table className="data-table compact">
            <caption className="visually-hidden">Scopes</caption>
            <thead>
              <tr>
                <th scope="col">Scope</th>
                <th scope="col">Description</th>
                <th scope="col">Kind</th>
                <th scope="col">Roles that may grant it</th>
              </tr>
            </thead>
            <tbody>
              {scopes.data.map((s) => (
                <tr key={s.name}>
                  <td className="mono">{s.name}</td>
                  <td>{s.description}</td>
                  <td>{s.builtin ? "Built-in" : "Custom"}</td>
                  <td>{s.roles.map((r) => (r === "vrm_admin" ? "VRM admin" : r === "admin" ? "Admin" : "User")).join(", ")}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form className="add-scope" onSubmit={submit} noValidate aria-label="Add a custom scope">
        <Field label="New scope name" error={scopeNameError(errors)}>
          <input className="mono" value={name} onChange={(e) => setName(e.target.value)} placeholder="reports:read" autoComplete="off" />
        </Field>
        <Field label="Description" error={errors.description}>
          <input value={description} onChange={(e) => setDescription(e.target.value)} autoComplete="off" />
        </Field>
        <button type="submit" className="btn" disabled={add.isPending}>
          {add.isPending ? "Adding…" : "Add scope"}
        </button>
      </form>
      {errors.form && (
        <p className="form-error" role="alert">
          {errors.form}
        </p>
      )}
    </section>
  );
}

function ApiSection({ api }: { api: ApiStatus }) {
  const [done, setDone] = useState<string | null>(null);
  const exportCa = useMutation({
    mutationFn: async () => {
      const path = await ipc.pickSavePath("tessera-ca.pem", "pem");
      if (!path) return null;
      await ipc.exportCaCertificate(path);
      return path;
    },
    onSuccess: (path) => setDone(path ? `Saved the CA certificate to ${path}. Import it into Postman (Settings → Certificates) or pass it to curl with --cacert.` : null),
  });
  return (
    <section className="card section" aria-labelledby="api-h">
      <h2 id="api-h">API server</h2>
      <dl className="meta-grid">
        <dt>Listening on</dt>
        <dd className="mono">{api.listen}</dd>
        <dt>Base URL</dt>
        <dd className="mono">{api.baseUrl}</dd>
        <dt>State</dt>
        <dd>
          {api.running ? (
            <span className="outcome-ok">
              <span aria-hidden="true">● </span>Running
            </span>
          ) : (
            <span className="outcome-refused">
              <span aria-hidden="true">■ </span>Not running{api.error ? `: ${api.error}` : ""}
            </span>
          )}
        </dd>
        <dt>CA certificate SHA-256</dt>
        <dd className="mono fingerprint">{api.fingerprint ?? "No certificate yet"}</dd>
      </dl>
      <div className="actions start">
        <button type="button" className="btn" onClick={() => exportCa.mutate()} disabled={exportCa.isPending || !api.fingerprint}>
          Export CA certificate…
        </button>
      </div>
      {done && (
        <p className="banner banner-info" role="status">
          {done}
        </p>
      )}
      <ErrorBanner error={exportCa.error} prefix="Export failed" />
    </section>
  );
}
