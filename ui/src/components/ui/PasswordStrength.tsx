import { passwordStrength } from "../../lib/password";

/** A four-step meter plus the label and advice in words. */
export function PasswordStrength({ password, id }: { password: string; id?: string }) {
  const s = passwordStrength(password);
  return (
    <div className="strength" id={id} aria-live="polite">
      <div className={`strength-bar strength-${s.score}`} aria-hidden="true">
        {[1, 2, 3, 4].map((i) => (
          <span key={i} className={i <= s.score ? "on" : ""} />
        ))}
      </div>
      <span className="strength-text">
        <strong>{s.label}.</strong> {s.hint}
      </span>
    </div>
  );
}
