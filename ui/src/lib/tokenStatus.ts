// Why and since when a token is not active, for lists where expired and revoked tokens stay
// visible: "Revoked", at statusChangedAt; "Expired: reached its expiry date", at expiresAt;
// "Expired: unused for 30 days", at idleExpiresAt.
import type { TokenView } from "./contract";

export type StatusWhy = { reason: string; at: string | null };

export function statusWhy(t: TokenView, now: Date = new Date()): StatusWhy | null {
  switch (t.status) {
    case "active":
      return null;
    case "revoked":
      return { reason: "Revoked (final)", at: t.statusChangedAt };
    case "deactivated":
      return { reason: "Deactivated", at: t.statusChangedAt };
    case "expired": {
      const before = (iso: string | null) => iso !== null && new Date(iso).getTime() <= now.getTime();
      if (before(t.expiresAt) && (!before(t.idleExpiresAt) || (t.expiresAt ?? "") <= (t.idleExpiresAt ?? ""))) {
        return { reason: "Reached its expiry date", at: t.expiresAt };
      }
      if (before(t.idleExpiresAt)) {
        return { reason: t.idleDays ? `Unused for ${t.idleDays} ${t.idleDays === 1 ? "day" : "days"}` : "Idle expiry", at: t.idleExpiresAt };
      }
      return { reason: "Expired", at: t.statusChangedAt ?? t.expiresAt };
    }
  }
}
