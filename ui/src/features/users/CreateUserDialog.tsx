// Create a person: e-mail, name, role, initial password, source group. Backend errors land
// next to the field they name.
import { useState, type FormEvent } from "react";
import { Field } from "../../components/ui/Field";
import { Modal } from "../../components/ui/Modal";
import { PasswordStrength } from "../../components/ui/PasswordStrength";
import type { Role } from "../../bindings/Role";
import { placeError } from "../../lib/errors";
import { ROLE_CHOICES } from "./roles";
import { useCreateUser } from "./useUsers";

const SHOWN = ["email", "name", "role", "password", "source_group"] as const;
type Errors = Partial<Record<(typeof SHOWN)[number] | "form", string>>;

export function CreateUserDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  return (
    <Modal open={open} onOpenChange={onOpenChange} title="Create user" description="They sign in with this e-mail and password and should change the password at once.">
      {open && <CreateUserForm onDone={() => onOpenChange(false)} />}
    </Modal>
  );
}

function CreateUserForm({ onDone }: { onDone: () => void }) {
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("user");
  const [password, setPassword] = useState("");
  const [sourceGroup, setSourceGroup] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const create = useCreateUser();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: Errors = {};
    if (!/^[^\s@]+@[^\s@]+$/.test(email.trim())) errs.email = "Enter an e-mail address such as grace@acme.example.";
    if (!name.trim()) errs.name = "Enter their name.";
    if (password.length < 12) errs.password = "Use at least 12 characters.";
    setErrors(errs);
    if (Object.keys(errs).length) return;
    create.mutate(
      { email: email.trim(), name: name.trim(), role, password, sourceGroup: sourceGroup.trim() },
      {
        onSuccess: onDone,
        onError: (err) => {
          setErrors(placeError(err, SHOWN));
        },
      },
    );
  };

  return (
    <form onSubmit={submit} noValidate className="form-grid">
      <Field label="E-mail" error={errors.email}>
        <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="off" autoFocus />
      </Field>
      <Field label="Name" error={errors.name}>
        <input value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />
      </Field>
      <Field label="Role" error={errors.role} hint={ROLE_CHOICES.find((r) => r.value === role)?.help}>
        <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLE_CHOICES.map((r) => (
            <option key={r.value} value={r.value}>
              {r.label}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Initial password" error={errors.password} hint={<PasswordStrength password={password} />}>
        <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" />
      </Field>
      <Field label="Source group" error={errors.source_group} hint="Optional. The team or directory group they belong to, e.g. engineering.">
        <input value={sourceGroup} onChange={(e) => setSourceGroup(e.target.value)} autoComplete="off" />
      </Field>
      {errors.form && (
        <p className="form-error" role="alert">
          {errors.form}
        </p>
      )}
      <div className="actions">
        <button type="button" className="btn" onClick={onDone} disabled={create.isPending}>
          Cancel
        </button>
        <button type="submit" className="btn primary" disabled={create.isPending} aria-busy={create.isPending}>
          {create.isPending ? "Creating…" : "Create user"}
        </button>
      </div>
    </form>
  );
}
