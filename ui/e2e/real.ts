// The real backend's answers, recorded by src-tauri/tests/suite/contract.rs into
// contract.json (CI fails when that file drifts from the Rust code). The fakes take their
// scopes, policy defaults, audit action names, status changes, error messages, secret shapes
// and rules from here, so they cannot answer what the real backend never would; the errors
// they throw are replayed from here, never decided by a condition of their own.
import type { IpcError } from "../src/bindings/IpcError";
import type { Policy } from "../src/bindings/Policy";
import type { Role } from "../src/bindings/Role";
import type { ScopeDetail } from "../src/bindings/ScopeDetail";
import type { ScopeView } from "../src/bindings/ScopeView";
import type { StatusAction } from "../src/bindings/StatusAction";
import type { TokenStatus } from "../src/bindings/TokenStatus";
import contract from "./contract.json";

/** The name of a recorded real error (`contract.json` → `errors`). */
export type ErrorKey = keyof typeof contract.errors;
/** Values for a recorded message's placeholders (`{id}`, `{name}`, `{value}`, ...); a number
 *  alone is the id. */
export type Fill = number | Record<string, string | number>;
type SecretKind = keyof typeof contract.secretShapes;
type Recorded = { type: string; field: string | null; message: string };

export const REAL_COMMANDS: readonly string[] = contract.commands;
export const REAL_SCOPES: readonly ScopeDetail[] = contract.scopes as ScopeDetail[];
export const REAL_POLICY: Readonly<Policy> = contract.policyDefaults;
export const REAL_AUDIT_ACTIONS: readonly string[] = contract.auditActions;
export const REAL_RULES = contract.rules;

/** What `list_grantable_scopes` answers for a person of `role`. */
export function grantable(role: Role): ScopeView[] {
  return contract.grantable[role] as ScopeView[];
}

/** A recorded error with its placeholders filled in; one left unfilled fails the test. */
function filled(e: Recorded, fill?: Fill): IpcError {
  const values = typeof fill === "number" ? { id: fill } : (fill ?? {});
  let message = e.message;
  for (const [k, v] of Object.entries(values)) message = message.replaceAll(`{${k}}`, String(v));
  const left = message.match(/\{[A-Za-z_]+\}/);
  if (left) throw new Error(`the real error "${e.message}" needs a value for ${left[0]}`);
  return { type: e.type as IpcError["type"], field: e.field as IpcError["field"], message };
}

/** The real error for `key`, with the placeholders its recorded message has (`{id}`,
 *  `{name}`, `{value}`) filled in: a number alone is the id. */
export function realError(key: ErrorKey, fill?: Fill): IpcError {
  return filled(contract.errors[key], fill);
}

/** What the real `set_token_status` answered for `action` on a token in status `from`
 *  (recorded in `statusTransitions`): the new status, or the real refusal for token `id`. */
export function statusChange(id: number, from: TokenStatus, action: StatusAction): { status: TokenStatus } | IpcError {
  type Answer = { status: string } | { error: { type: string; field: string | null; message: string } };
  const table = contract.statusTransitions as unknown as Partial<Record<TokenStatus, Record<StatusAction, Answer>>>;
  const answer = table[from]?.[action];
  if (!answer) throw new Error(`the contract records no ${action} of a ${from} token; add it to contract.rs`);
  return "error" in answer ? filled(answer.error, id) : { status: answer.status as TokenStatus };
}

/** A secret of the real shape (prefix and length) for kind `k`; `n` makes it unique. */
export function realSecret(k: "p" | "u" | "c" | "s", n: number): string {
  const kind: SecretKind = k === "p" ? "personal" : k === "u" ? "user" : k === "s" ? "client" : "company";
  const { prefix, length } = contract.secretShapes[kind];
  const filler = "Zk3v9QpL2mXr7TbN4wYc8HdJ6sFa1Ge5UoKi0Rq".repeat(3);
  const body = `${n}${filler}`.slice(0, length - prefix.length);
  return prefix + body;
}

/** The hint the real backend shows for a secret: its kind prefix ("tsr_p_"), "…", and its
 *  last four characters (tessera-core `TokenSecret::hint`). */
export function realHint(secret: string): string {
  const prefix = secret.split("_").slice(0, 2).join("_") + "_";
  return `${prefix}…${secret.slice(-4)}`;
}

/** What the UI shows of a real error beside its field: the message, once the error names a
 *  field (so a test fails if the real backend stops naming it). */
export function shownBesideField(e: IpcError): string {
  if (!e.field) throw new Error(`the real backend names no field for "${e.message}"`);
  return e.message;
}
