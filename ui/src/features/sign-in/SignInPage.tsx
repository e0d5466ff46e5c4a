// Sign-in. The backend slows down after wrong passwords, so the button shows it is working.
import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Field } from "../../components/ui/Field";
import { formError } from "../../lib/errors";
import * as ipc from "../../lib/ipc";
import { ConnectionPanel } from "../connection/ConnectionPanel";

type Props = { company: string | null; notice: string | null; onSignedIn: () => void; teamUrl?: string | null };

export function SignInPage({ company, notice, onSignedIn, teamUrl = null }: Props) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);

  const signIn = useMutation({
    mutationFn: ipc.signIn,
    onSuccess: () => {
      setPassword("");
      onSignedIn();
    },
    onError: (e) => {
      setPassword("");
      setError(formError(e).message);
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!email.trim() || !password) {
      setError("Enter your e-mail and password.");
      return;
    }
    setError(null);
    signIn.mutate({ email: email.trim(), password });
  };

  return (
    <main className="center-page">
      <form className="card auth-card" onSubmit={submit} noValidate aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to Tessera</h1>
        {company && <p className="muted">{company}</p>}
        {teamUrl && (
          <p className="muted">
            On the team server <span className="mono">{teamUrl}</span>
          </p>
        )}
        {notice && (
          <div className="banner banner-info" role="status">
            {notice}
          </div>
        )}
        <Field label="E-mail">
          <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="username" autoFocus required />
        </Field>
        <Field label="Password">
          <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" required />
        </Field>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button className="btn primary wide" type="submit" disabled={signIn.isPending} aria-busy={signIn.isPending}>
          {signIn.isPending ? "Checking…" : "Sign in"}
        </button>
      </form>
      {teamUrl && (
        // Signed out is when a replaced server certificate is met (nothing signs in until it
        // is trusted), so the connection can be changed from here.
        <details className="card auth-card">
          <summary>Connection</summary>
          <ConnectionPanel initialUrl={teamUrl} />
        </details>
      )}
    </main>
  );
}
