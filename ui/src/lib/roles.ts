import type { Role } from "../bindings/Role";

export const ROLE_LABELS: Record<Role, string> = { admin: "Admin", vrm_admin: "VRM admin", user: "User" };
