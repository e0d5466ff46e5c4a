// Why and since when a token is not active, for lists where expired and revoked tokens stay
// visible: "Revoked", at status_changed_at; "Expired: reached its expiry date", at expires_at;
// "Expired: unused for 30 days", at idle_expires_at.
import type { TokenInfo } from "../bindings/TokenInfo";

export type StatusWhy = { reason: string; at: string | null };

export function statusWhy(t: TokenInfo, now: Date = new Date()): StatusWhy | null {
  switch (t.status) {
    case "active":
      return null;
    case "rotating":
      return { reason: `Rotating: replaced by token ${t.rotation?.successor ?? "?"}, works until`, at: t.rotation?.ends_at ?? null };
    case "revoked":
      return { reason: "Revoked (final)", at: t.status_changed_at };
    case "deactivated":
      return { reason: "Deactivated", at: t.status_changed_at };
    case "expired": {
      const before = (iso: string | null) => iso !== null && new Date(iso).getTime() <= now.getTime();
      if (before(t.expires_at) && (!before(t.idle_expires_at) || (t.expires_at ?? "") <= (t.idle_expires_at ?? ""))) {
        return { reason: "Reached its expiry date", at: t.expires_at };
      }
      if (before(t.idle_expires_at)) {
        return { reason: t.idle_days ? `Unused for ${t.idle_days} ${t.idle_days === 1 ? "day" : "days"}` : "Idle expiry", at: t.idle_expires_at };
      }
      return { reason: "Expired", at: t.status_changed_at ?? t.expires_at };
    }
  }
}
