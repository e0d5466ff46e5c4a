// Shared between the Node test side and the in-page fake backend (keep it free of DOM and Node APIs).
import type { Policy } from "../src/bindings/Policy";
import type { Role } from "../src/bindings/Role";
import type { ErrorKey, Fill } from "./real";

/** A recorded real error (a key of contract.json's `errors`) and the values for its
 *  message's placeholders. */
export type Refusal = readonly [ErrorKey, Fill?];

export type Scenario = {
  initialised: boolean;
  signedIn: boolean;
  tokens: "empty" | "full";
  userToken: boolean;
  lockAfterMinutes: number;
  clipboardSeconds: number;
  policy?: Partial<Policy>;
  /** This command answers Unauthenticated, as after a session ends elsewhere. */
  unauthenticatedOn?: string;
  apiRunning?: boolean;
  /** The window works on a team server at this address; `teamReachable` false: it is away. */
  teamUrl?: string;
  /** Another admin adds the user "Made elsewhere" this long after the window opens (seen by
   *  the window only through store_version moving). */
  externalUserAfterMs?: number;
  teamReachable?: boolean;
  /** The window started unconnected to `teamUrl`, for this reason (as app_status says it),
   *  until the person trusts the server's certificate. */
  unconnected?: string;
  /** The signed-in person's role (default admin). */
  role?: Role;
  /** "100k": list_all_tokens answers from 100,000 tokens generated per page on demand. */
  allTokens?: "small" | "100k";
  /** Delay per bulk_set_token_status call, so the progress bar can be seen. */
  bulkDelayMs?: number;
  /** What app_status says is wrong with the audit log (the backend's audit check). */
  auditProblem?: string;
  /** Refusals to replay, by command: the command's next call throws that real error (once;
   *  later calls answer as usual). The fakes never decide a refusal themselves, so a test
   *  that wants the UI to meet one (a duplicate name, a missing description, ...) says so
   *  here, e.g. `{ create_personal_token: ["duplicateTokenName", { name: "CI deploy" }] }`. */
  refuse?: Readonly<Record<string, Refusal>>;
};

/** Rows in the big All tokens fake. */
export const BIG_TOTAL = 100_000;

export const PASSWORD = "correct horse battery staple";
export const XSS_NAME = "<img src=x onerror=alert(1)>";

