// Create a personal or company token: validated inline as typed. A backend error carries the
// input it is about (`field`, tessera-core's `Field`, or null); `placeError` puts it next to
// that input when the dialog shows it (`SHOWN`), otherwise above the buttons. On success
// the caller shows the one-time reveal.
import { useMemo, useState, type FormEvent } from "react";
import { Field } from "../../components/ui/Field";
import { Modal } from "../../components/ui/Modal";
import { ErrorBanner } from "../../components/ui/ErrorBanner";
import type { Policy } from "../../bindings/Policy";
import type { Revealed } from "../../bindings/Revealed";
import type { ScopeView } from "../../bindings/ScopeView";
import { placeError } from "../../lib/errors";
import { defaultSelection, resolveExpiry, type ExpirySelection } from "../../lib/expiry";
import { parseNetworks } from "../../lib/networks";
import { useProfile } from "../profile/useProfile";
import { ExpiryPicker } from "./ExpiryPicker";
import { useCreateCompanyToken, useCreatePersonalToken, useGrantableScopes, usePolicy } from "./useMyTokens";

export const NAME_MAX = 100;
export const DESCRIPTION_MAX = 1000;

/** Personal tokens belong to the person; company tokens to the company (description required). */
export type TokenVariant = "personal" | "company";

type Props = { open: boolean; onOpenChange: (open: boolean) => void; onCreated: (r: Revealed) => void; variant?: TokenVariant };

export function CreateTokenDialog({ open, onOpenChange, onCreated, variant = "personal" }: Props) {
  const policy = usePolicy();
  const scopes = useGrantableScopes();
  const company = variant === "company";
  return (
    <Modal
      open={open}
      onOpenChange={onOpenChange}
      title={company ? "Create company token" : "Create personal token"}
      size="wide"
      description={
        company
          ? "A token owned by the company for a service or integration. It keeps working when its creator leaves; you are recorded as its creator."
          : "A token for a script or tool to call the API as you, with only the scopes you choose."
      }
    >
      <ErrorBanner error={policy.error ?? scopes.error} />
      {(policy.isPending || scopes.isPending) && <p className="muted">Loading policy…</p>}
      {open && policy.data && scopes.data && (
        <CreateTokenForm
          policy={policy.data}
          scopes={company ? scopes.data.filter((s) => s.company) : scopes.data}
          variant={variant} onCancel={() => onOpenChange(false)} onCreated={onCreated} />
      )}
    </Modal>
  );
}

// The inputs of this form, by the backend's field names; the expiry picker also shows what
// the backend says about an exact date.
const SHOWN = ["name", "description", "scopes", "expiry", "expires_at", "idle_days", "allowed_networks", "rate_limit"] as const;
type FieldName = (typeof SHOWN)[number];
type Errors = Partial<Record<FieldName | "form", string>>;

function CreateTokenForm({
  policy,
  scopes,
  variant,
  onCancel,
  onCreated,
}: {
  policy: Policy;
  scopes: ScopeView[];
  variant: TokenVariant;
  onCancel: () => void;
  onCreated: (r: Revealed) => void;
}) {
  const [now] = useState(() => new Date());
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [expiry, setExpiry] = useState<ExpirySelection>(() => defaultSelection(policy));
  const [idleOn, setIdleOn] = useState(policy.default_idle_days > 0);
  const [idleDays, setIdleDays] = useState(String(policy.default_idle_days > 0 ? policy.default_idle_days : 30));
  const [networksText, setNetworksText] = useState("");
  const me = useProfile();
  const isAdmin = me.data?.role === "admin";
  const [honeytoken, setHoneytoken] = useState(false);
  // On by default for company tokens: a service's token should not wander.
  const [alertNewSources, setAlertNewSources] = useState(variant === "company");
  const [rateLimit, setRateLimit] = useState(String(policy.default_rate_limit));
  const [errors, setErrors] = useState<Errors>({});
  const createPersonal = useCreatePersonalToken();
  const createCompany = useCreateCompanyToken();
  const company = variant === "company";
  const create = company ? createCompany : createPersonal;

  const clear = (field: FieldName) => setErrors((x) => (x[field] || x.form ? { ...x, [field]: undefined, form: undefined } : x));

  const networks = useMemo(() => parseNetworks(networksText), [networksText]);
  const networkError = networks.errors.length
    ? networks.errors.map((e) => `Line ${e.line}: ${e.error}`).join(" ")
    : null;

  const toggleScope = (scope: string, on: boolean) => {
    setChosen((prev) => {
      const next = new Set(prev);
      if (on) next.add(scope);
      else next.delete(scope);
      return next;
    });
    clear("scopes");
  };

  const validate = (): Errors => {
    const errs: Errors = {};
    const trimmed = name.trim();
    if (!trimmed) errs.name = "Give the token a name, such as “CI deploy” or “Postman”.";
    else if (trimmed.length > NAME_MAX) errs.name = `Use at most ${NAME_MAX} characters (now ${trimmed.length}).`;
    if (company && !description.trim()) errs.description = "Describe what uses this token and who to ask about it.";
    else if (description.length > DESCRIPTION_MAX) errs.description = `Use at most ${DESCRIPTION_MAX} characters.`;
    if (chosen.size === 0) errs.scopes = "Choose at least one scope.";
    const resolved = resolveExpiry(expiry, policy, new Date());
    if (!resolved.ok) errs.expiry = resolved.error;
    if (idleOn) {
      const d = Number(idleDays);
      if (!/^\d+$/.test(idleDays.trim()) || d < 1 || d > 3650) errs.idle_days = "Enter a whole number of days from 1 to 3650.";
    }
    if (networkError) errs.allowed_networks = networkError;
    const r = Number(rateLimit);
    if (!/^\d+$/.test(rateLimit.trim()) || r < 1) errs.rate_limit = "Enter a whole number of requests per minute, at least 1.";
    else if (policy.max_rate_limit > 0 && r > policy.max_rate_limit) errs.rate_limit = `The maximum is ${policy.max_rate_limit} requests per minute.`;
    return errs;
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs = validate();
    setErrors(errs);
    if (Object.keys(errs).length > 0) {
      const first = document.querySelector<HTMLElement>(".create-token [aria-invalid='true']");
      first?.focus();
      return;
    }
    const resolved = resolveExpiry(expiry, policy, new Date());
    if (!resolved.ok) return;
    create.mutate(
      {
        name: name.trim(),
        description: description.trim(),
        scopes: scopes.map((s) => s.name).filter((s) => chosen.has(s)),
        expiry: resolved.choice,
        idleDays: idleOn ? Number(idleDays) : null,
        networks: networks.networks,
        rateLimit: Number(rateLimit),
        ...(honeytoken ? { honeytoken: true } : { alertNewSources }),
      },
      {
        onSuccess: onCreated,
        onError: (err) => {
          setErrors(placeError(err, SHOWN));
        },
      },
    );
  };

  const nameLength = name.trim().length;
  return (
    <form className="create-token form-grid" onSubmit={submit} noValidate>
      <Field label="Name" error={errors.name} hint={`Required. Unique among ${company ? "company" : "your"} tokens. ${nameLength}/${NAME_MAX}`}>
        <input
          value={name}
          onChange={(e) => {
            setName(e.target.value);
            clear("name");
          }}
          maxLength={NAME_MAX + 20}
          autoFocus
          autoComplete="off"
        />
      </Field>
      <Field label="Description" error={errors.description} hint={company ? "Required. What uses it and who to ask about it, so others can judge it later." : "Optional. What uses it, so you recognise it later."}>
        <textarea value={description} onChange={(e) => {
            setDescription(e.target.value);
            clear("description");
          }} rows={2} />
      </Field>
      {isAdmin && (
        <label className="check honeytoken-choice">
          <input type="checkbox" checked={honeytoken} onChange={(e) => setHoneytoken(e.target.checked)} />
          <span>
            <strong>Honeytoken: never grants access, alerts on any use</strong>
            <span className="muted small">
              {" "}
              It looks like any token of its kind; plant it where a thief would look. Every request with it is refused exactly like an unknown token, and
              admins are alerted with the address and client.
            </span>
          </span>
        </label>
      )}
      <fieldset className="field scopes" aria-invalid={errors.scopes ? true : undefined}>
        <legend>Scopes</legend>
        {scopes.length === 0 ? (
          <p className="muted">Your role cannot grant any scopes. Ask an administrator.</p>
        ) : (
          <ul className="checklist">
            {scopes.map((s) => (
              <li key={s.name}>
                <label className="check">
                  <input type="checkbox" checked={chosen.has(s.name)} onChange={(e) => toggleScope(s.name, e.target.checked)} />
                  <span>
                    <span className="mono scope-name">{s.name}</span>
                    <span className="scope-description">{s.description}</span>
                  </span>
                </label>
              </li>
            ))}
          </ul>
        )}
        {errors.scopes && (
          <div className="field-error" role="alert">
            {errors.scopes}
          </div>
        )}
      </fieldset>
      <ExpiryPicker
        policy={policy}
        value={expiry}
        onChange={(s) => {
          setExpiry(s);
          clear("expiry");
          clear("expires_at");
        }}
        now={now}
        error={errors.expiry ?? errors.expires_at}
      />
      <div className="field idle">
        <label className="check">
          <input type="checkbox" checked={idleOn} onChange={(e) => setIdleOn(e.target.checked)} />
          Expire when unused
        </label>
        {idleOn && (
          <Field label="Days without use" error={errors.idle_days} hint="Every successful use starts the count again." className="inline-field">
            <input type="number" inputMode="numeric" min={1} max={3650} value={idleDays} onChange={(e) => {
              setIdleDays(e.target.value);
              clear("idle_days");
            }} />
          </Field>
        )}
      </div>
      <Field
        label="Allowed networks"
        error={errors.allowed_networks ?? networkError}
        hint={`Optional. One IPv4 or IPv6 address or CIDR range per line, e.g. 10.0.0.0/8 or 2001:db8::/32. Empty allows any address.${networks.networks.length ? ` ${networks.networks.length} valid.` : ""}`}
      >
        <textarea className="mono" value={networksText} onChange={(e) => {
            setNetworksText(e.target.value);
            clear("allowed_networks");
          }} rows={3} spellCheck={false} />
      </Field>
      <Field label="Rate limit (requests per minute)" error={errors.rate_limit} hint={`Default ${policy.default_rate_limit}, maximum ${policy.max_rate_limit}.`}>
        <input type="number" inputMode="numeric" min={1} max={policy.max_rate_limit} value={rateLimit} onChange={(e) => {
            setRateLimit(e.target.value);
            clear("rate_limit");
          }} />
      </Field>
      {!honeytoken && (
        <label className="check">
          <input type="checkbox" checked={alertNewSources} onChange={(e) => setAlertNewSources(e.target.checked)} />
          <span>
            <strong>Alert on new sources</strong>
            <span className="muted small">
              {" "}
              Tell {company ? "the administrators" : "you"} when the token is used from a network (/24 or /48) or a client it was never used from. Its
              first network and client are the baseline.
            </span>
          </span>
        </label>
      )}
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
          {create.isPending ? "Creating…" : "Create token"}
        </button>
      </div>
    </form>
  );
}
