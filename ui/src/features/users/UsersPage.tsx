// Users (admin): everyone with role, group, live token count and state; create, change role,
// deactivate and reactivate, each with its consequences shown first.
import { useState } from "react";
import { ErrorBanner } from "../../components/ui/ErrorBanner";
import { RelativeTime } from "../../components/ui/RelativeTime";
import type { Me } from "../../bindings/Me";
import type { Role } from "../../bindings/Role";
import type { UserView } from "../../bindings/UserView";
import { CreateUserDialog } from "./CreateUserDialog";
import { ROLE_CHOICES } from "./roles";
import { ChangeRoleDialog, DeactivateUserDialog, ReactivateUserDialog } from "./UserDialogs";
import { useUsers } from "./useUsers";

type Pending = { kind: "role"; user: UserView; role: Role } | { kind: "deactivate"; user: UserView } | { kind: "reactivate"; user: UserView } | null;

export function UsersPage({ me }: { me: Me }) {
  const users = useUsers();
  const [creating, setCreating] = useState(false);
  const [pending, setPending] = useState<Pending>(null);
  const close = () => setPending(null);
  return (
    <>
      <div className="page-header">
        <h1>Users</h1>
        <button type="button" className="btn primary" onClick={() => setCreating(true)}>
          Create user
        </button>
      </div>
      {users.isPending && <p className="muted">Loading…</p>}
      <ErrorBanner error={users.error} />
      {users.data && (
        <div className="table-wrap">
          <table className="data-table">
            <caption className="visually-hidden">Users. Changing a role or deactivating asks for confirmation first.</caption>
            <thead>
              <tr>
                <th scope="col">Person</th>
                <th scope="col">Role</th>
                <th scope="col">Source group</th>
                <th scope="col">Live tokens</th>
                <th scope="col">State</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {users.data.map((u) => {
                const self = u.id === me.id;
                return (
                  <tr key={u.id} data-user={u.email}>
                    <td>
                      <span className="strong">{u.name}</span>
                      {self && <span className="muted small"> (you)</span>}
                      <div className="mono small muted">{u.email}</div>
                    </td>
                    <td>
                      <select
                        className="inline-select"
                        aria-label={`Role of ${u.name}`}
                        value={u.role}
                        disabled={!u.active || self}
                        title={self ? "You cannot change your own role" : undefined}
                        onChange={(e) => setPending({ kind: "role", user: u, role: e.target.value as Role })}
                      >
                        {ROLE_CHOICES.map((r) => (
                          <option key={r.value} value={r.value}>
                            {r.label}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td>{u.source_group || <span className="muted">—</span>}</td>
                    <td className="num">{u.live_tokens}</td>
                    <td>
                      {u.active ? (
                        <span className="badge badge-active">
                          <span className="badge-dot" aria-hidden="true" />
                          Active
                        </span>
                      ) : (
                        <>
                          <span className="badge badge-revoked">
                            <span className="badge-dot" aria-hidden="true" />
                            Deactivated
                          </span>
                          <div className="muted small">
                            <RelativeTime value={u.deactivated_at} empty="" />
                          </div>
                        </>
                      )}
                    </td>
                    <td>
                      <RelativeTime value={u.created_at} />
                    </td>
                    <td className="row-actions">
                      {u.active ? (
                        <button type="button" className="btn small danger" disabled={self} onClick={() => setPending({ kind: "deactivate", user: u })} aria-label={`Deactivate ${u.name}`}>
                          Deactivate…
                        </button>
                      ) : (
                        <button type="button" className="btn small" onClick={() => setPending({ kind: "reactivate", user: u })} aria-label={`Reactivate ${u.name}`}>
                          Reactivate…
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <CreateUserDialog open={creating} onOpenChange={setCreating} />
      {pending?.kind === "role" && <ChangeRoleDialog user={pending.user} role={pending.role} onClose={close} />}
      {pending?.kind === "deactivate" && <DeactivateUserDialog user={pending.user} onClose={close} />}
      {pending?.kind === "reactivate" && <ReactivateUserDialog user={pending.user} onClose={close} />}
    </>
  );
}
