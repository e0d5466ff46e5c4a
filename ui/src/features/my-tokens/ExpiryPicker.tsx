// Expiry presets, a custom date and time, or no expiry where policy allows; shows the result.
import { useId } from "react";
import type { Policy } from "../../bindings/Policy";
import { formatLong, formatRelative } from "../../lib/dates";
import {
  EXPIRY_PRESETS,
  latestAllowed,
  neverAllowed,
  presetAllowed,
  resolveExpiry,
  toLocalInputValue,
  type ExpirySelection,
} from "../../lib/expiry";

type Props = {
  policy: Policy;
  value: ExpirySelection;
  onChange: (s: ExpirySelection) => void;
  now: Date;
  error?: string | null;
};

export function ExpiryPicker({ policy, value, onChange, now, error }: Props) {
  const id = useId();
  const resolved = resolveExpiry(value, policy, now);
  const latest = latestAllowed(policy, now);
  const customValue = value.kind === "custom" ? value.local : "";
  const shownError = error ?? (resolved.ok ? null : resolved.error);
  const resultId = `${id}-result`;

  return (
    <fieldset className="field expiry" aria-describedby={resultId}>
      <legend>Expires</legend>
      <div className="segmented" role="presentation">
        {EXPIRY_PRESETS.map((p) => {
          const allowed = presetAllowed(p.days, policy);
          return (
            <label key={p.days} className={`segment ${allowed ? "" : "disabled"}`} title={allowed ? undefined : `Policy allows at most ${policy.max_lifetime_days} days`}>
              <input
                type="radio"
                name={`${id}-expiry`}
                checked={value.kind === "days" && value.days === p.days}
                disabled={!allowed}
                onChange={() => onChange({ kind: "days", days: p.days })}
              />
              {p.label}
            </label>
          );
        })}
        <label className="segment">
          <input
            type="radio"
            name={`${id}-expiry`}
            checked={value.kind === "custom"}
            onChange={() => onChange({ kind: "custom", local: customValue || toLocalInputValue(new Date(now.getTime() + 14 * 86_400_000)) })}
          />
          Custom
        </label>
        {neverAllowed(policy) && (
          <label className="segment">
            <input type="radio" name={`${id}-expiry`} checked={value.kind === "never"} onChange={() => onChange({ kind: "never" })} />
            No expiry
          </label>
        )}
      </div>
      {value.kind === "custom" && (
        <div className="field inline-field">
          <label htmlFor={`${id}-custom`}>Date and time</label>
          <input
            id={`${id}-custom`}
            type="datetime-local"
            value={value.local}
            min={toLocalInputValue(now)}
            max={latest ? toLocalInputValue(latest) : undefined}
            onChange={(e) => onChange({ kind: "custom", local: e.target.value })}
            aria-invalid={shownError ? true : undefined}
          />
        </div>
      )}
      <div id={resultId} className="field-hint expiry-result" aria-live="polite">
        {resolved.ok &&
          (resolved.expiresAt ? (
            <>
              Expires <strong>{formatLong(resolved.expiresAt)}</strong> ({formatRelative(resolved.expiresAt, now)}).
            </>
          ) : (
            <>Never expires. Revoke it yourself when it is no longer needed.</>
          ))}
        {latest && <> Policy maximum: {policy.max_lifetime_days} days.</>}
      </div>
      {shownError && (
        <div className="field-error" role="alert">
          {shownError}
        </div>
      )}
    </fieldset>
  );
}
