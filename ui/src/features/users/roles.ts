import type { Role } from "../../bindings/Role";

export const ROLE_CHOICES: { value: Role; label: string; help: string }[] = [
  { value: "user", label: "User", help: "Manages their own profile and tokens." },
  { value: "vrm_admin", label: "VRM admin", help: "Also creates and manages company tokens; not users." },
  { value: "admin", label: "Admin", help: "Everything: users, roles, policies, every token, the audit log." },
];

export const roleLabel = (role: Role) => ROLE_CHOICES.find((r) => r.value === role)?.label ?? role;
