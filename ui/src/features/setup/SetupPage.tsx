// First run: create the company and its first admin, who is then signed in.
import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Field } from "../../components/ui/Field";
import { ConnectionPanel } from "../connection/ConnectionPanel";
import { PasswordStrength } from "../../components/ui/PasswordStrength";
import { placeError } from "../../lib/errors";
import * as ipc from "../../lib/ipc";
import { MIN_PASSWORD_LENGTH } from "../../lib/password";

type Errors = Partial<Record<"company" | "name" | "email" | "password" | "repeat" | "form", string>>;

export function SetupPage({ keyWarning, onDone }: { keyWarning: string | null; onDone: () => void }) {
  const [company, setCompany] = useState("");
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [errors, setErrors] = useState<Errors>({});

  const clearError = (field: keyof Errors) => setErrors((x) => (x[field] || x.form ? { ...x, [field]: undefined, form: undefined } : x));

  const setup = useMutation({
    mutationFn: ipc.setupCompany,
    onSuccess: onDone,
    onError: (e) => {
      setErrors(placeError(e, ["company", "name", "email", "password"]));
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const next: Errors = {};
    if (!company.trim()) next.company = "Enter your company's name.";
    if (!name.trim()) next.name = "Enter your name.";
    if (!/^[^\s@]+@[^\s@]+$/.test(email.trim())) next.email = "Enter an e-mail address such as ada@example.com.";
    if (password.length < MIN_PASSWORD_LENGTH) next.password = `Use at least ${MIN_PASSWORD_LENGTH} characters.`;
    if (repeat !== password) next.repeat = "The passwords do not match.";
    setErrors(next);
    if (Object.keys(next).length > 0) return;
    setup.mutate({ company: company.trim(), name: name.trim(), email: email.trim(), password });
  };

  return (
    <main className="center-page">
      <form className="card auth-card" onSubmit={submit} noValidate aria-labelledby="setup-title">
        <h1 id="setup-title">Welcome to Tessera</h1>
        <p className="muted">Create your company and its first administrator. You can add more people later.</p>
        {keyWarning && (
          <div className="banner banner-warning" role="status">
            {keyWarning}
          </div>
        )}
        <Field label="Company" error={errors.company}>
          <input value={company} onChange={(e) => {
              setCompany(e.target.value);
              clearError("company");
            }} autoComplete="organization" autoFocus required />
        </Field>
        <Field label="Your name" error={errors.name}>
          <input value={name} onChange={(e) => {
              setName(e.target.value);
              clearError("name");
            }} autoComplete="name" required />
        </Field>
        <Field label="E-mail" error={errors.email}>
          <input type="email" value={email} onChange={(e) => {
              setEmail(e.target.value);
              clearError("email");
            }} autoComplete="email" required />
        </Field>
        <Field label="Password" error={errors.password} hint={<PasswordStrength password={password} />}>
          <input type="password" value={password} onChange={(e) => {
              setPassword(e.target.value);
              clearError("password");
            }} autoComplete="new-password" required />
        </Field>
        <Field label="Repeat password" error={errors.repeat}>
          <input type="password" value={repeat} onChange={(e) => {
              setRepeat(e.target.value);
              clearError("repeat");
            }} autoComplete="new-password" required />
        </Field>
        {errors.form && (
          <p className="form-error" role="alert">
            {errors.form}
          </p>
        )}
        <button className="btn primary wide" type="submit" disabled={setup.isPending} aria-busy={setup.isPending}>
          {setup.isPending ? "Creating…" : "Create company and sign in"}
        </button>
      </form>
      <details className="card auth-card">
        <summary>Or work on your team's server</summary>
        <ConnectionPanel />
      </details>
    </main>
  );
}
