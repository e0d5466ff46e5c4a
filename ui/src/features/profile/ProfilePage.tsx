// Profile: name and default source group, password change, and the user API token.
import { useState, type FormEvent } from "react";
import { Field } from "../../components/ui/Field";
import { ErrorBanner } from "../../components/ui/ErrorBanner";
import { PasswordStrength } from "../../components/ui/PasswordStrength";
import type { Me } from "../../bindings/Me";
import type { Revealed } from "../../bindings/Revealed";
import { placeError } from "../../lib/errors";
import { MIN_PASSWORD_LENGTH } from "../../lib/password";
import { ROLE_LABELS } from "../../lib/roles";
import { useChangePassword, useProfile, useUpdateProfile } from "./useProfile";
import { UserTokenSection } from "./UserTokenSection";
import { RevealDialog } from "../reveal/RevealDialog";

export function ProfilePage() {
  const profile = useProfile();
  const [revealed, setRevealed] = useState<Revealed | null>(null);
  return (
    <>
      <h1>Profile</h1>
      {profile.isPending && <p className="muted">Loading…</p>}
      <ErrorBanner error={profile.error} />
      {profile.data && <ProfileForm key={profile.data.id} me={profile.data} />}
      <UserTokenSection onRevealed={setRevealed} />
      <PasswordForm />
      <RevealDialog revealed={revealed} onDone={() => setRevealed(null)} title="Your new user API token" />
    </>
  );
}

function ProfileForm({ me }: { me: Me }) {
  const [name, setName] = useState(me.name);
  const [sourceGroup, setSourceGroup] = useState(me.sourceGroup);
  const [errors, setErrors] = useState<{ name?: string; source_group?: string; form?: string }>({});
  const [saved, setSaved] = useState(false);
  const update = useUpdateProfile();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    if (!name.trim()) {
      setErrors({ name: "Enter your name." });
      return;
    }
    setErrors({});
    update.mutate(
      { name: name.trim(), sourceGroup: sourceGroup.trim() },
      {
        onSuccess: () => setSaved(true),
        onError: (err) => {
          setErrors(placeError(err, ["name", "source_group"]));
        },
      },
    );
  };

  return (
    <section className="card section" aria-labelledby="profile-details">
      <h2 id="profile-details">Details</h2>
      <form onSubmit={submit} noValidate className="form-grid">
        <Field label="Name" error={errors.name}>
          <input value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" maxLength={200} />
        </Field>
        <Field label="E-mail" hint="Ask an administrator to change your e-mail address.">
          <input value={me.email} readOnly />
        </Field>
        <Field label="Role" hint="Your role decides which scopes your tokens can use.">
          <input value={ROLE_LABELS[me.role]} readOnly />
        </Field>
        <Field label="Default source group" error={errors.source_group}>
          <input value={sourceGroup} onChange={(e) => setSourceGroup(e.target.value)} maxLength={200} />
        </Field>
        {errors.form && (
          <p className="form-error" role="alert">
            {errors.form}
          </p>
        )}
        <div className="actions start">
          <button className="btn primary" type="submit" disabled={update.isPending}>
            {update.isPending ? "Saving…" : "Save"}
          </button>
          {saved && (
            <span className="muted" role="status">
              Saved.
            </span>
          )}
        </div>
      </form>
    </section>
  );
}

function PasswordForm() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [errors, setErrors] = useState<{ current_password?: string; password?: string; repeat?: string; form?: string }>({});
  const [done, setDone] = useState(false);
  const change = useChangePassword();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setDone(false);
    const errs: typeof errors = {};
    if (!current) errs.current_password = "Enter your current password.";
    if (next.length < MIN_PASSWORD_LENGTH) errs.password = `Use at least ${MIN_PASSWORD_LENGTH} characters.`;
    if (repeat !== next) errs.repeat = "The new passwords do not match.";
    setErrors(errs);
    if (Object.keys(errs).length) return;
    change.mutate(
      { current, next },
      {
        onSuccess: () => {
          setCurrent("");
          setNext("");
          setRepeat("");
          setDone(true);
        },
        onError: (err) => {
          setErrors(placeError(err, ["current_password", "password"]));
        },
      },
    );
  };

  return (
    <section className="card section" aria-labelledby="password-title">
      <h2 id="password-title">Change password</h2>
      <form onSubmit={submit} noValidate className="form-grid">
        <Field label="Current password" error={errors.current_password}>
          <input type="password" value={current} onChange={(e) => {
              setCurrent(e.target.value);
              setErrors((x) => ({ ...x, current: undefined, form: undefined }));
            }} autoComplete="current-password" />
        </Field>
        <Field label="New password" error={errors.password} hint={next ? <PasswordStrength password={next} /> : undefined}>
          <input type="password" value={next} onChange={(e) => {
              setNext(e.target.value);
              setErrors((x) => ({ ...x, next: undefined, form: undefined }));
            }} autoComplete="new-password" />
        </Field>
        <Field label="Repeat new password" error={errors.repeat}>
          <input type="password" value={repeat} onChange={(e) => {
              setRepeat(e.target.value);
              setErrors((x) => ({ ...x, repeat: undefined, form: undefined }));
            }} autoComplete="new-password" />
        </Field>
        <ErrorBanner error={errors.form ? new Error(errors.form) : null} />
        <div className="actions start">
          <button className="btn primary" type="submit" disabled={change.isPending}>
            {change.isPending ? "Changing…" : "Change password"}
          </button>
          {done && (
            <span className="muted" role="status">
              Password changed.
            </span>
          )}
        </div>
      </form>
    </section>
  );
}
