import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import * as ipc from "../../lib/ipc";
import type { ClientAction } from "../../bindings/ClientAction";
import type { ClientInfo } from "../../bindings/ClientInfo";

export const clientsKey = ["clients"] as const;

export function useClients() {
  return useQuery({ queryKey: clientsKey, queryFn: ipc.listClients });
}

/** A client changed: put it in the list at once, then refetch (its figures may change too). */
function useClientChanged() {
  const qc = useQueryClient();
  return (c: ClientInfo | null, removed?: number) => {
    qc.setQueryData<ClientInfo[]>(clientsKey, (list) => {
      if (!list) return list;
      if (removed !== undefined) return list.filter((x) => x.id !== removed);
      if (!c) return list;
      return list.some((x) => x.id === c.id) ? list.map((x) => (x.id === c.id ? c : x)) : [c, ...list];
    });
    void qc.invalidateQueries({ queryKey: clientsKey });
    // Disabling or deleting revokes the client's tokens.
    void qc.invalidateQueries({ queryKey: ["all-tokens"] });
    void qc.invalidateQueries({ queryKey: ["dashboard"] });
  };
}

export function useCreateClient() {
  const changed = useClientChanged();
  return useMutation({ mutationFn: ipc.createClient, onSuccess: (r) => changed(r.client) });
}

export function useRotateClientSecret() {
  const changed = useClientChanged();
  return useMutation({ mutationFn: ipc.rotateClientSecret, onSuccess: (r) => changed(r.client) });
}

export function useRetireClientSecret() {
  const changed = useClientChanged();
  return useMutation({
    mutationFn: ({ id, secretId }: { id: number; secretId: number }) => ipc.retireClientSecret(id, secretId),
    onSuccess: (c) => changed(c),
  });
}

export function useSetClientStatus() {
  const changed = useClientChanged();
  return useMutation({
    mutationFn: ({ id, action }: { id: number; action: ClientAction }) => ipc.setClientStatus(id, action),
    onSuccess: (c) => changed(c),
  });
}

export function useDeleteClient() {
  const changed = useClientChanged();
  return useMutation({ mutationFn: (id: number) => ipc.deleteClient(id), onSuccess: (_, id) => changed(null, id) });
}
