// Where the add-scope form (Settings → Scopes) shows a backend refusal. The backend names an
// invalid scope name with the field `scopes` (tessera-core `Field::Scopes`, as everywhere a
// scope name is parsed) and a scope that already exists with `name`; both belong beside the
// "New scope name" input.
import { placeError, type FormErrors } from "../../lib/errors";

/** A refusal of `add_scope`, placed in the add-scope form. */
export function placeScopeError(err: unknown): FormErrors {
  return placeError(err, ["name", "description", "scopes"]);
}

/** The message the "New scope name" input shows. */
export function scopeNameError(errors: FormErrors): string | undefined {
  return errors.name ?? errors.scopes;
}
