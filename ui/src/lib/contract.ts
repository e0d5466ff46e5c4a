// The IPC contract with the Rust side. Until ts-rs writes `src/bindings/*.ts`, the types are
// spelled out here; afterwards this file only re-exports the generated ones, so the rest of
// the UI imports from one place and never from a hand-written copy that could drift.

export type Role = "admin" | "vrm_admin" | "user";
export type TokenKind = "user" | "personal" | "company";
export type TokenStatus = "active" | "deactivated" | "revoked" | "expired";
export type Me = { id: number; email: string; name: string; role: Role; sourceGroup: string; company: string };
export type ApiStatus = { listen: string; running: boolean; error: string | null; fingerprint: string | null; baseUrl: string };
export type AppStatus = {
  initialised: boolean;
  company: string | null;
  me: Me | null;
  api: ApiStatus;
  keyWarning: string | null;
  lockAfterMinutes: number;
};
export type SetupRequest = { company: string; name: string; email: string; password: string };
export type SignInRequest = { email: string; password: string };
export type ProfileUpdate = { name: string; sourceGroup: string };
export type PasswordChange = { current: string; next: string };
export type TokenView = {
  id: number;
  kind: TokenKind;
  name: string;
  description: string;
  hint: string;
  ownerEmail: string | null;
  ownerName: string | null;
  createdBy: string;
  scopes: string[];
  status: TokenStatus;
  createdAt: string;
  expiresAt: string | null;
  idleDays: number | null;
  idleExpiresAt: string | null;
  allowedNetworks: string[];
  rateLimit: number;
  statusChangedAt: string | null;
  lastUsedAt: string | null;
  lastUsedIp: string | null;
  lastUsedAgent: string | null;
  useCount: number;
  refusedCount: number;
};
export type UsageView = {
  at: string;
  ip: string | null;
  userAgent: string | null;
  method: string;
  path: string;
  status: number;
  outcome: string;
  via: string;
};
export type TokenDetail = { token: TokenView; recentUses: UsageView[] };
export type ExpiryChoice = { type: "days"; days: number } | { type: "at"; at: string } | { type: "never" };
export type CreateTokenRequest = {
  name: string;
  description: string;
  scopes: string[];
  expiry: ExpiryChoice;
  idleDays: number | null;
  networks: string[];
  rateLimit: number | null;
};
export type Revealed = { token: TokenView; secret: string; baseUrl: string };
export type StatusAction = "revoke" | "deactivate" | "activate";
export type ScopeView = { name: string; description: string; builtin: boolean };
export type PolicyView = {
  maxLifetimeDays: number;
  expiryRequired: boolean;
  defaultLifetimeDays: number;
  defaultIdleDays: number;
  maxRateLimit: number;
  defaultRateLimit: number;
  queryParamTokens: boolean;
  clipboardSeconds: number;
};
export type CopyReceipt = { clearsInSeconds: number };
export type IpcErrorType = "Unauthenticated" | "NotFound" | "Forbidden" | "Invalid" | "Conflict" | "Internal";
export type IpcError = { type: IpcErrorType; data: string };
