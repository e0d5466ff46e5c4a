// The All tokens filters. Every field is labelled; text fields are debounced by the page, the
// day fields show an inline error instead of silently ignoring a bad value.
import type { ReactNode } from "react";
import type { ScopeDetail } from "../../bindings/ScopeDetail";
import type { TokenKind } from "../../bindings/TokenKind";
import type { TokenStatus } from "../../bindings/TokenStatus";
import { EMPTY_FILTERS, activeFilterCount, daysError, type TokenFilters } from "../../lib/tokenQuery";

type Props = {
  value: TokenFilters;
  onChange: (next: TokenFilters) => void;
  scopes: ScopeDetail[];
  /** vrm_admin sees company tokens and their own; the kind filter is still useful, the owner one less so. */
  showOwner: boolean;
};

const KINDS: { value: TokenKind; label: string }[] = [
  { value: "user", label: "User API token" },
  { value: "personal", label: "Personal" },
  { value: "company", label: "Company" },
  // Listed only when asked for: many, short-lived, and shown under their client.
  { value: "access", label: "OAuth access" },
];
const STATUSES: { value: TokenStatus; label: string }[] = [
  { value: "active", label: "Active" },
  { value: "deactivated", label: "Deactivated" },
  { value: "expired", label: "Expired" },
  { value: "revoked", label: "Revoked" },
];

function Labelled({ id, label, children, error, className }: { id: string; label: string; children: ReactNode; error?: string | null; className?: string }) {
  return (
    <div className={`filter ${className ?? ""}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {error && (
        <span className="field-error" id={`${id}-error`} role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

export function TokenFiltersBar({ value, onChange, scopes, showOwner }: Props) {
  const set = <K extends keyof TokenFilters>(key: K, v: TokenFilters[K]) => onChange({ ...value, [key]: v });
  const expiringError = daysError(value.expiringWithinDays);
  const unusedError = daysError(value.unusedForDays);
  const count = activeFilterCount(value);
  return (
    <section role="search" className="filters card" aria-label="Filter tokens">
      <div className="filters-row">
        <Labelled id="f-text" label="Search" className="grow">
          <input id="f-text" type="search" placeholder="Name, description, hint or owner" value={value.text} onChange={(e) => set("text", e.target.value)} />
        </Labelled>
        {showOwner && (
          <Labelled id="f-owner" label="Owner e-mail">
            <input id="f-owner" type="search" value={value.owner} onChange={(e) => set("owner", e.target.value)} autoComplete="off" />
          </Labelled>
        )}
        <Labelled id="f-kind" label="Kind">
          <select id="f-kind" value={value.kind} onChange={(e) => set("kind", e.target.value as TokenKind | "")}>
            <option value="">Any kind</option>
            {KINDS.map((k) => (
              <option key={k.value} value={k.value}>
                {k.label}
              </option>
            ))}
          </select>
        </Labelled>
        <Labelled id="f-status" label="Status">
          <select id="f-status" value={value.status} onChange={(e) => set("status", e.target.value as TokenStatus | "")}>
            <option value="">Any status</option>
            {STATUSES.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </Labelled>
        <Labelled id="f-scope" label="Scope">
          <select id="f-scope" value={value.scope} onChange={(e) => set("scope", e.target.value)}>
            <option value="">Any scope</option>
            {scopes.map((s) => (
              <option key={s.name} value={s.name}>
                {s.name}
              </option>
            ))}
          </select>
        </Labelled>
      </div>
      <div className="filters-row">
        <Labelled id="f-expiring" label="Expiring within (days)" error={expiringError} className="narrow">
          <input
            id="f-expiring"
            inputMode="numeric"
            value={value.expiringWithinDays}
            onChange={(e) => set("expiringWithinDays", e.target.value)}
            aria-invalid={expiringError ? true : undefined}
            aria-describedby={expiringError ? "f-expiring-error" : undefined}
          />
        </Labelled>
        <Labelled id="f-unused" label="Unused for (days)" error={unusedError} className="narrow">
          <input
            id="f-unused"
            inputMode="numeric"
            value={value.unusedForDays}
            onChange={(e) => set("unusedForDays", e.target.value)}
            aria-invalid={unusedError ? true : undefined}
            aria-describedby={unusedError ? "f-unused-error" : undefined}
          />
        </Labelled>
        <label className="check filter-check">
          <input type="checkbox" checked={value.neverUsed} onChange={(e) => set("neverUsed", e.target.checked)} />
          Never used
        </label>
        <label className="check filter-check">
          <input type="checkbox" checked={value.presentedInQuery} onChange={(e) => set("presentedInQuery", e.target.checked)} />
          Presented in a URL query
        </label>
        <button type="button" className="btn small filter-clear" onClick={() => onChange(EMPTY_FILTERS)} disabled={count === 0}>
          Clear filters{count > 0 ? ` (${count})` : ""}
        </button>
      </div>
    </section>
  );
}
