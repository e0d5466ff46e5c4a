// Register an OAuth client: name, what runs it, scopes (at most a VRM admin's, as for company
// tokens), networks, the access tokens' lifetime and the rate limit. On success the caller
// shows the one-time reveal of its secret.
import { useMemo, useState, type FormEvent } from "react";
import { ErrorBanner } from "../../components/ui/ErrorBanner";
import { Field } from "../../components/ui/Field";
import { Modal } from "../../components/ui/Modal";
import type { Policy } from "../../bindings/Policy";
import type { RevealedClient } from "../../bindings/RevealedClient";
import type { ScopeView } from "../../bindings/ScopeView";
import { placeError } from "../../lib/errors";
import { parseNetworks } from "../../lib/networks";
import { DESCRIPTION_MAX, NAME_MAX } from "../my-tokens/CreateTokenDialog";
import { useGrantableScopes, usePolicy } from "../my-tokens/useMyTokens";
import { useCreateClient } from "./useClients";

/** The access-token lifetimes offered, in seconds. */
export const TOKEN_LIFETIMES: readonly { seconds: number; label: string }[] = [
  { seconds: 5 * 60, label: "5 minutes" },
  { seconds: 15 * 60, label: "15 minutes" },
  { seconds: 60 * 60, label: "1 hour (recommended)" },
  { seconds: 4 * 60 * 60, label: "4 hours" },
  { seconds: 24 * 60 * 60, label: "24 hours" },
];

type Props = { open: boolean; onOpenChange: (open: boolean) => void; onCreated: (r: RevealedClient) => void };

export function CreateClientDialog({ open, onOpenChange, onCreated }: Props) {
  const policy = usePolicy();
  const scopes = useGrantableScopes();
  return (
    <Modal
      open={open}
      onOpenChange={onOpenChange}
      title="Register OAuth client"
      size="wide"
      description="A service gets short-lived access tokens with its client ID and secret (OAuth 2.0 client credentials), from any standard OAuth library. The client belongs to the company."
    >
      <ErrorBanner error={policy.error ?? scopes.error} />
      {(policy.isPending || scopes.isPending) && <p className="muted">Loading policy…</p>}
      {open && policy.data && scopes.data && (
        <CreateClientForm policy={policy.data} scopes={scopes.data.filter((s) => s.company)} onCancel={() => onOpenChange(false)} onCreated={onCreated} />
      )}
    </Modal>
  );
}

const SHOWN = ["name", "description", "scopes", "allowed_networks", "rate_limit", "token_ttl"] as const;
type FieldName = (typeof SHOWN)[number];
type Errors = Partial<Record<FieldName | "form", string>>;

function CreateClientForm({
  policy,
  scopes,
  onCancel,
  onCreated,
}: {
  policy: Policy;
  scopes: ScopeView[];
  onCancel: () => void;
  onCreated: (r: RevealedClient) => void;
}) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [networksText, setNetworksText] = useState("");
  const [ttl, setTtl] = useState(3600);
  const [rateLimit, setRateLimit] = useState(String(policy.default_rate_limit));
  const [errors, setErrors] = useState<Errors>({});
  const create = useCreateClient();
  const networks = useMemo(() => parseNetworks(networksText), [networksText]);
  const networkError = networks.errors.length ? networks.errors.map((e) => `Line ${e.line}: ${e.error}`).join(" ") : null;
  const clear = (f: FieldName) => setErrors((x) => (x[f] || x.form ? { ...x, [f]: undefined, form: undefined } : x));

  const validate = (): Errors => {
    const errs: Errors = {};
    const trimmed = name.trim();
    if (!trimmed) errs.name = "Give the client a name, such as “billing-sync”.";
    else if (trimmed.length > NAME_MAX) errs.name = `Use at most ${NAME_MAX} characters (now ${trimmed.length}).`;
    if (description.length > DESCRIPTION_MAX) errs.description = `Use at most ${DESCRIPTION_MAX} characters.`;
    if (chosen.size === 0) errs.scopes = "Choose at least one scope.";
    if (networkError) errs.allowed_networks = networkError;
    const r = Number(rateLimit);
    if (!/^\d+$/.test(rateLimit.trim()) || r < 1) errs.rate_limit = "Enter a whole number of requests per minute, at least 1.";
    else if (r > policy.max_rate_limit) errs.rate_limit = `The maximum is ${policy.max_rate_limit} requests per minute.`;
    return errs;
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs = validate();
    setErrors(errs);
    if (Object.keys(errs).length > 0) {
      document.querySelector<HTMLElement>(".create-client [aria-invalid='true']")?.focus();
      return;
    }
    create.mutate(
      {
        name: name.trim(),
        description: description.trim(),
        scopes: scopes.map((s) => s.name).filter((s) => chosen.has(s)),
        networks: networks.networks,
        rateLimit: Number(rateLimit),
        tokenTtlSeconds: ttl,
      },
      { onSuccess: onCreated, onError: (err) => setErrors(placeError(err, SHOWN)) },
    );
  };

  return (
    <form className="create-client form-grid" onSubmit={submit} noValidate>
      <Field label="Name" error={errors.name} hint={`Required. Unique among OAuth clients. ${name.trim().length}/${NAME_MAX}`}>
        <input value={name} onChange={(e) => { setName(e.target.value); clear("name"); }} maxLength={NAME_MAX + 20} autoFocus autoComplete="off" />
      </Field>
      <Field label="Description" error={errors.description} hint="Optional. What service uses it and who runs it.">
        <textarea value={description} onChange={(e) => { setDescription(e.target.value); clear("description"); }} rows={2} />
      </Field>
      <fieldset className="field scopes" aria-invalid={errors.scopes ? true : undefined}>
        <legend>Scopes its tokens may carry</legend>
        <ul className="checklist">
          {scopes.map((s) => (
            <li key={s.name}>
              <label className="check">
                <input
                  type="checkbox"
                  checked={chosen.has(s.name)}
                  onChange={(e) => {
                    const on = e.target.checked;
                    setChosen((prev) => {
                      const next = new Set(prev);
                      if (on) next.add(s.name);
                      else next.delete(s.name);
                      return next;
                    });
                    clear("scopes");
                  }}
                />
                <span>
                  <span className="mono scope-name">{s.name}</span>
                  <span className="scope-description">{s.description}</span>
                </span>
              </label>
            </li>
          ))}
        </ul>
        {errors.scopes && (
          <div className="field-error" role="alert">
            {errors.scopes}
          </div>
        )}
      </fieldset>
      <Field label="Access token lifetime" error={errors.token_ttl} hint="Each token the client gets expires after this; the client asks for a new one.">
        <select value={ttl} onChange={(e) => { setTtl(Number(e.target.value)); clear("token_ttl"); }}>
          {TOKEN_LIFETIMES.map((t) => (
            <option key={t.seconds} value={t.seconds}>
              {t.label}
            </option>
          ))}
        </select>
      </Field>
      <Field
        label="Allowed networks"
        error={errors.allowed_networks ?? networkError}
        hint="Optional. One address or CIDR range per line; the client may get and use tokens only from these. Empty allows any address."
      >
        <textarea className="mono" value={networksText} onChange={(e) => { setNetworksText(e.target.value); clear("allowed_networks"); }} rows={3} spellCheck={false} />
      </Field>
      <Field label="Rate limit (requests per minute)" error={errors.rate_limit} hint={`For its token requests and all its tokens together. Default ${policy.default_rate_limit}, maximum ${policy.max_rate_limit}.`}>
        <input type="number" inputMode="numeric" min={1} max={policy.max_rate_limit} value={rateLimit} onChange={(e) => { setRateLimit(e.target.value); clear("rate_limit"); }} />
      </Field>
      {errors.form && (
        <p className="form-error" role="alert">
          {errors.form}
        </p>
      )}
      <div className="actions sticky-actions">
        <button type="button" className="btn" onClick={onCancel} disabled={create.isPending}>
          Cancel
        </button>
        <button type="submit" className="btn primary" disabled={create.isPending} aria-busy={create.isPending}>
          {create.isPending ? "Registering…" : "Register client"}
        </button>
      </div>
    </form>
  );
}
