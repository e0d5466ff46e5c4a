import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import * as ipc from "../../lib/ipc";
import type { StatusAction } from "../../bindings/StatusAction";
import type { TokenInfo } from "../../bindings/TokenInfo";

export const myTokensKey = ["my-tokens"] as const;
export const tokenKey = (id: number) => ["token", id] as const;

/** A token changed: every list, count and report that may show it is refetched. */
function invalidateLists(qc: QueryClient) {
  for (const key of [myTokensKey, ["all-tokens"], ["company-tokens"], ["dashboard"], ["usage"]]) {
    void qc.invalidateQueries({ queryKey: key });
  }
}

export function useMyTokens() {
  return useQuery({ queryKey: myTokensKey, queryFn: ipc.listMyTokens });
}

export function useTokenDetail(id: number | null) {
  return useQuery({
    queryKey: tokenKey(id ?? -1),
    queryFn: () => ipc.getToken(id ?? -1),
    enabled: id !== null,
    // A rotating token's end and the clients still using it change without any action here.
    refetchInterval: (q) => (q.state.data?.token.status === "rotating" ? 5_000 : false),
  });
}

export function usePolicy() {
  return useQuery({ queryKey: ["policy"], queryFn: ipc.getPolicy, staleTime: 60_000 });
}

export function useGrantableScopes() {
  return useQuery({ queryKey: ["grantable-scopes"], queryFn: ipc.listGrantableScopes, staleTime: 60_000 });
}

export function useCreatePersonalToken() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ipc.createPersonalToken,
    onSuccess: (revealed) => {
      qc.setQueryData<TokenInfo[]>(myTokensKey, (list) => (list ? [revealed.token, ...list] : list));
      void qc.invalidateQueries({ queryKey: myTokensKey });
    },
  });
}

/** The backend answered a token's new state: put it in the list at once, refetch the rest. */
function tokenChanged(qc: QueryClient, token: TokenInfo) {
  qc.setQueryData<TokenInfo[]>(myTokensKey, (list) => list?.map((t) => (t.id === token.id ? token : t)));
  void qc.invalidateQueries({ queryKey: tokenKey(token.id) });
  invalidateLists(qc);
}

export function useSetTokenStatus() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, action }: { id: number; action: StatusAction }) => ipc.setTokenStatus(id, action),
    onSuccess: (token) => tokenChanged(qc, token),
  });
}

export function useSetTokenNote() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, note }: { id: number; note: string }) => ipc.setTokenNote(id, note),
    onSuccess: (token) => tokenChanged(qc, token),
  });
}

export function useSetTokenAlerts() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, on }: { id: number; on: boolean }) => ipc.setTokenAlerts(id, on),
    onSuccess: (token) => tokenChanged(qc, token),
  });
}

export function useDeleteToken() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => ipc.deleteToken(id),
    onSuccess: (_null, id) => {
      qc.setQueryData<TokenInfo[]>(myTokensKey, (list) => list?.filter((t) => t.id !== id));
      qc.removeQueries({ queryKey: tokenKey(id) });
      invalidateLists(qc);
    },
  });
}

export const companyTokensKey = ["company-tokens"] as const;

export function useCompanyTokens() {
  return useQuery({ queryKey: companyTokensKey, queryFn: ipc.listCompanyTokens });
}

export function useCreateCompanyToken() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ipc.createCompanyToken,
    onSuccess: (revealed) => {
      qc.setQueryData<TokenInfo[]>(companyTokensKey, (list) => (list ? [revealed.token, ...list] : list));
      invalidateLists(qc);
    },
  });
}

/** Rotate a token: the successor is revealed once, the old token is rotating. */
export function useRotateToken() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, overlapSeconds, graceSeconds }: { id: number; overlapSeconds: number; graceSeconds: number }) =>
      ipc.rotateToken(id, overlapSeconds, graceSeconds),
    onSuccess: (_revealed, { id }) => {
      void qc.invalidateQueries({ queryKey: tokenKey(id) });
      invalidateLists(qc);
    },
  });
}

export function useFinishRotation() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => ipc.finishRotation(id),
    onSuccess: (token) => tokenChanged(qc, token),
  });
}
