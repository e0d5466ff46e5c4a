// The one literal of a whole token (tessera-core's `TokenInfo`) the UI tests build from: a
// fresh, active, never-used personal token. Tests and fakes override what they care about,
// so a field added to the core type is added here once.
import type { TokenInfo } from "../src/bindings/TokenInfo";

export function aToken(partial: Partial<TokenInfo> & Pick<TokenInfo, "id" | "name">): TokenInfo {
  return {
    kind: "personal",
    description: "",
    note: "",
    hint: `tsr_p_…${String(partial.id).padStart(4, "0").slice(-4)}`,
    owner: null,
    created_by: "ada@acme.example",
    scopes: ["me:read"],
    status: "active",
    created_at: "2026-01-01T00:00:00Z",
    expires_at: null,
    idle_days: null,
    idle_expires_at: null,
    allowed_networks: [],
    rotation: null,
    honeytoken: false,
    alert_new_sources: false,
    rate_limit: 300,
    status_changed_at: null,
    last_used_at: null,
    last_used_ip: null,
    last_used_agent: null,
    use_count: 0,
    refused_count: 0,
    ...partial,
  };
}
