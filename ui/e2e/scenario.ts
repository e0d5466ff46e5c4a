// Shared between the Node test side and the in-page fake backend (keep it free of DOM and Node APIs).
import type { PolicyView } from "../src/lib/contract";

export type Scenario = {
  initialised: boolean;
  signedIn: boolean;
  tokens: "empty" | "full";
  userToken: boolean;
  lockAfterMinutes: number;
  clipboardSeconds: number;
  policy?: Partial<PolicyView>;
  /** This command answers Unauthenticated, as after a session ends elsewhere. */
  unauthenticatedOn?: string;
  apiRunning?: boolean;
};

export const PASSWORD = "correct horse battery staple";
export const XSS_NAME = "<img src=x onerror=alert(1)>";

