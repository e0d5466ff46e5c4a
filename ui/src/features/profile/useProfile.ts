import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import * as ipc from "../../lib/ipc";
import type { AppStatus } from "../../bindings/AppStatus";
import type { Me } from "../../bindings/Me";
import { statusKey } from "../../app/queryClient";

export const profileKey = ["profile"] as const;
export const userTokenKey = ["user-token"] as const;

export function useProfile() {
  return useQuery({ queryKey: profileKey, queryFn: ipc.getProfile });
}

export function useUpdateProfile() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ipc.updateProfile,
    onSuccess: (me: Me) => {
      qc.setQueryData(profileKey, me);
      qc.setQueryData<AppStatus>(statusKey, (s) => (s ? { ...s, me } : s));
    },
  });
}

export function useChangePassword() {
  return useMutation({ mutationFn: ipc.changePassword });
}

export function useUserToken() {
  return useQuery({ queryKey: userTokenKey, queryFn: ipc.getUserToken });
}

export function useRegenerateUserToken() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (overlapSeconds?: number) => ipc.regenerateUserToken(overlapSeconds),
    onSuccess: (revealed) => qc.setQueryData(userTokenKey, revealed.token),
  });
}
