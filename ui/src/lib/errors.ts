// Presenting backend errors: an `Invalid` message reads "field: what is wrong", so a form can
// show it next to the field it names.
import { isIpcFailure } from "./ipc";

export type FieldError = { field: string | null; message: string };

/** Splits "rateLimit: must be at most 600" into field and message; field is null when absent. */
export function splitFieldMessage(text: string): FieldError {
  const m = /^([A-Za-z][A-Za-z0-9_.]*):\s*(.+)$/s.exec(text.trim());
  return m ? { field: m[1], message: m[2] } : { field: null, message: text };
}

/** "sign-in: wrong e-mail or password" → "Wrong e-mail or password": a refusal's leading
 *  context ("sign-in:", "session:") names no form field, so it is dropped for display. */
function refusalText(text: string): string {
  const rest = text.trim().replace(/^[a-z][a-z-]*:\s+/, "");
  if (!rest) return "Something went wrong.";
  // Sentence case, but an e-mail address at the start stays as it is.
  return /^\S*@/.test(rest) ? rest : rest.charAt(0).toUpperCase() + rest.slice(1);
}

/** The error a form should show, attached to a field when the backend named one. */
export function formError(e: unknown): FieldError {
  if (isIpcFailure(e) && (e.type === "Invalid" || e.type === "Conflict")) return splitFieldMessage(e.data);
  if (isIpcFailure(e) && (e.type === "Forbidden" || e.type === "Unauthenticated")) return { field: null, message: refusalText(e.data) };
  if (isIpcFailure(e)) return { field: null, message: e.data || "Something went wrong." };
  return { field: null, message: e instanceof Error ? e.message : "Something went wrong." };
}

/** Normalises a backend field name ("rate_limit", "req.rateLimit") to the form's camelCase key. */
export function fieldKey(field: string): string {
  const last = field.split(".").pop() ?? field;
  return last.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}
