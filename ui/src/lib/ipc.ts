// The only module that talks to the Rust side. One typed wrapper per command; every rejection
// becomes an `IpcFailure` (an Error, so TanStack Query and error boundaries treat it as one)
// carrying the backend's tagged error.
import { invoke } from "@tauri-apps/api/core";
import { save } from "@tauri-apps/plugin-dialog";
import type {
  AppStatus,
  AuditQuery,
  AuditView,
  BulkResult,
  DashboardView,
  Deactivation,
  NewUserRequest,
  PolicySettings,
  Role,
  RoleChange,
  ScopeDetail,
  TokenPage,
  TokenQuery,
  UsageReport,
  UserView,
  CopyReceipt,
  CreateTokenRequest,
  IpcError,
  IpcErrorType,
  Me,
  PasswordChange,
  PolicyView,
  ProfileUpdate,
  Revealed,
  ScopeView,
  SetupRequest,
  SignInRequest,
  StatusAction,
  TokenDetail,
  TokenView,
} from "./contract";

const ERROR_TYPES: readonly IpcErrorType[] = ["Unauthenticated", "NotFound", "Forbidden", "Invalid", "Conflict", "Internal"];

export class IpcFailure extends Error {
  readonly type: IpcErrorType;
  readonly data: string;
  constructor(error: IpcError) {
    super(error.data);
    this.name = "IpcFailure";
    this.type = error.type;
    this.data = error.data;
  }
}

/** Turns whatever a command rejected with into an IpcFailure. */
export function toIpcFailure(raw: unknown): IpcFailure {
  if (raw instanceof IpcFailure) return raw;
  if (typeof raw === "object" && raw !== null && "type" in raw) {
    const { type, data } = raw as { type: unknown; data?: unknown };
    if (typeof type === "string" && (ERROR_TYPES as readonly string[]).includes(type)) {
      return new IpcFailure({ type: type as IpcErrorType, data: typeof data === "string" ? data : "" });
    }
  }
  const text = typeof raw === "string" ? raw : raw instanceof Error ? raw.message : "Unexpected error";
  return new IpcFailure({ type: "Internal", data: text });
}

export function isIpcFailure(e: unknown, type?: IpcErrorType): e is IpcFailure {
  return e instanceof IpcFailure && (type === undefined || e.type === type);
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw toIpcFailure(e);
  }
}

export const appStatus = () => call<AppStatus>("app_status");
export const setupCompany = (req: SetupRequest) => call<Me>("setup_company", { req });
export const signIn = (req: SignInRequest) => call<Me>("sign_in", { req });
export const signOut = () => call<null>("sign_out");
export const getProfile = () => call<Me>("get_profile");
export const updateProfile = (req: ProfileUpdate) => call<Me>("update_profile", { req });
export const changePassword = (req: PasswordChange) => call<null>("change_password", { req });
export const getUserToken = () => call<TokenView | null>("get_user_token");
export const regenerateUserToken = () => call<Revealed>("regenerate_user_token");
export const listMyTokens = () => call<TokenView[]>("list_my_tokens");
export const getToken = (id: number) => call<TokenDetail>("get_token", { id });
export const createPersonalToken = (req: CreateTokenRequest) => call<Revealed>("create_personal_token", { req });
export const setTokenStatus = (id: number, action: StatusAction) => call<TokenView>("set_token_status", { id, action });
export const deleteToken = (id: number) => call<null>("delete_token", { id });
export const listGrantableScopes = () => call<ScopeView[]>("list_grantable_scopes");
export const getPolicy = () => call<PolicyView>("get_policy");
export const copySecret = (text: string) => call<CopyReceipt>("copy_secret", { text });
export const clearClipboard = () => call<null>("clear_clipboard");
export const savePostmanEnvironment = (path: string, secret: string, name: string) =>
  call<null>("save_postman_environment", { path, secret, name });

// Administration (admin only; the backend answers Forbidden to others).
export const listUsers = () => call<UserView[]>("list_users");
export const createUser = (req: NewUserRequest) => call<UserView>("create_user", { req });
/** Scopes the user's tokens would lose with this role. */
export const previewRoleChange = (email: string, role: Role) => call<string[]>("preview_role_change", { email, role });
export const setUserRole = (email: string, role: Role) => call<RoleChange>("set_user_role", { email, role });
/** How many of the user's tokens deactivating them would revoke. */
export const previewDeactivateUser = (email: string) => call<number>("preview_deactivate_user", { email });
export const deactivateUser = (email: string) => call<Deactivation>("deactivate_user", { email });
export const reactivateUser = (email: string) => call<UserView>("reactivate_user", { email });

// Company tokens and all tokens (admin, vrm_admin).
export const listCompanyTokens = () => call<TokenView[]>("list_company_tokens");
export const createCompanyToken = (req: CreateTokenRequest) => call<Revealed>("create_company_token", { req });
export const listAllTokens = (query: TokenQuery) => call<TokenPage>("list_all_tokens", { query });
/** At most 1000 ids per call; the UI sends chunks of 50 (lib/bulk.ts). */
export const bulkSetTokenStatus = (ids: number[], action: StatusAction) => call<BulkResult>("bulk_set_token_status", { ids, action });

// Usage review, dashboard, audit.
export const tokenUsageReport = (id: number, days: number) => call<UsageReport>("token_usage_report", { id, days });
export const getDashboard = () => call<DashboardView>("get_dashboard");
export const listAudit = (query: AuditQuery) => call<AuditView[]>("list_audit", { query });
/** Writes the entries matching `query` as CSV to `path`; answers how many rows were written. */
export const exportAuditCsv = (path: string, query: AuditQuery) => call<number>("export_audit_csv", { path, query });

// Settings.
export const getPolicySettings = () => call<PolicySettings>("get_policy_settings");
export const updatePolicy = (policy: PolicySettings) => call<PolicySettings>("update_policy", { policy });
export const listScopes = () => call<ScopeDetail[]>("list_scopes");
export const addScope = (name: string, description: string) => call<ScopeDetail>("add_scope", { name, description });
export const exportCaCertificate = (path: string) => call<null>("export_ca_certificate", { path });

export type SaveKind = "postman" | "csv" | "pem";
const SAVE_FILTERS: Record<SaveKind, { name: string; extensions: string[] }> = {
  postman: { name: "Postman environment", extensions: ["json"] },
  csv: { name: "CSV", extensions: ["csv"] },
  pem: { name: "PEM certificate", extensions: ["pem", "crt"] },
};

/** The native save dialog (tauri-plugin-dialog); resolves to null when the user cancels. */
export async function pickSavePath(defaultPath: string, kind: SaveKind = "postman"): Promise<string | null> {
  try {
    return await save({
      defaultPath,
      filters: [SAVE_FILTERS[kind]],
    });
  } catch (e) {
    throw toIpcFailure(e);
  }
}
