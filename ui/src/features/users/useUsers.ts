import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import * as ipc from "../../lib/ipc";
import type { Role } from "../../bindings/Role";

export const usersKey = ["users"] as const;

export function useUsers() {
  return useQuery({ queryKey: usersKey, queryFn: ipc.listUsers });
}

function useInvalidateAfterUserChange() {
  const qc = useQueryClient();
  return () => {
    for (const key of [usersKey, ["all-tokens"], ["dashboard"], ["audit"]]) void qc.invalidateQueries({ queryKey: key });
  };
}

export function useCreateUser() {
  const done = useInvalidateAfterUserChange();
  return useMutation({ mutationFn: ipc.createUser, onSuccess: done });
}

export function useRolePreview(email: string, role: Role | null) {
  return useQuery({
    queryKey: ["role-preview", email, role],
    queryFn: () => ipc.previewRoleChange(email, role ?? "user"),
    enabled: role !== null,
    staleTime: 0,
  });
}

export function useSetUserRole() {
  const done = useInvalidateAfterUserChange();
  return useMutation({ mutationFn: ({ email, role }: { email: string; role: Role }) => ipc.setUserRole(email, role), onSuccess: done });
}

export function useDeactivatePreview(email: string | null) {
  return useQuery({
    queryKey: ["deactivate-preview", email],
    queryFn: () => ipc.previewDeactivateUser(email ?? ""),
    enabled: email !== null,
    staleTime: 0,
  });
}

export function useDeactivateUser() {
  const done = useInvalidateAfterUserChange();
  return useMutation({ mutationFn: ipc.deactivateUser, onSuccess: done });
}

export function useReactivateUser() {
  const done = useInvalidateAfterUserChange();
  return useMutation({ mutationFn: ipc.reactivateUser, onSuccess: done });
}
