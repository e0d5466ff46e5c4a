// Presenting backend errors. Every error carries the input it is about (tessera-core's
// `Field`, or null), so a form puts the message beside that input, or at its top.
import type { Field } from "../bindings/Field";
import { isIpcFailure } from "./ipc";

export type FieldError = { field: Field | null; message: string };

/** Errors a form shows: keyed by the backend's field names, plus the form's own keys. */
export type FormErrors<K extends string = never> = Partial<Record<Field | K | "form", string>>;

/** "wrong e-mail or password" → "Wrong e-mail or password" (an e-mail address at the
 *  start stays as it is), for messages shown on their own. */
function sentence(text: string): string {
  const t = text.trim();
  if (!t) return "Something went wrong.";
  return /^\S*@/.test(t) ? t : t.charAt(0).toUpperCase() + t.slice(1);
}

/** The error a form should show, and the field the backend named, if any. */
export function formError(e: unknown): FieldError {
  if (isIpcFailure(e)) return { field: e.field, message: e.field ? e.message : sentence(e.message) };
  return { field: null, message: e instanceof Error ? e.message : "Something went wrong." };
}

/** A backend error placed in a form: beside its field when the form shows that field (one of
 *  `shown`), otherwise at the form's top. */
export function placeError(e: unknown, shown: readonly Field[]): FormErrors {
  const f = formError(e);
  if (f.field && shown.includes(f.field)) return { [f.field]: f.message };
  return { form: f.field ? sentence(f.message) : f.message };
}
