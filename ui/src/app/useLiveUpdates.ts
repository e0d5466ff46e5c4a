// Changes made elsewhere (another admin's window, the CLI, a team server's other users) show
// up without a manual refresh: the window polls a version that moves whenever anything
// changes, and refetches what it shows when it moves. Polling keeps no session open.
//
// The same poll tells whether the store answers: while it fails as unavailable (a team
// server that went away) the window is offline, and when it answers again everything shown
// is fetched afresh.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import * as ipc from "../lib/ipc";
import { LIVE_KEY } from "./queryClient";

const versionKey = [LIVE_KEY] as const;
/** How often to ask, in milliseconds. */
export const LIVE_POLL_MS = 3_000;

/** Whether the store answers: `undefined` until the first poll has, `false` while it does not. */
export type Reachability = boolean | undefined;

export function useLiveUpdates(): Reachability {
  const queryClient = useQueryClient();
  const { data, error, dataUpdatedAt, errorUpdatedAt } = useQuery({
    queryKey: versionKey,
    queryFn: ipc.storeVersion,
    refetchInterval: LIVE_POLL_MS,
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
  // The newer of the last answer and the last failure decides.
  const failedLast = error !== null && errorUpdatedAt >= dataUpdatedAt;
  const away = failedLast && ipc.isIpcFailure(error, "Unavailable");
  const reachable: Reachability = away ? false : data === undefined ? undefined : true;

  const seen = useRef<number | undefined>(undefined);
  const wasAway = useRef(false);
  useEffect(() => {
    if (away) {
      wasAway.current = true;
      return;
    }
    if (data === undefined) return;
    const moved = seen.current !== undefined && data !== seen.current;
    if (moved || wasAway.current) {
      void queryClient.invalidateQueries({ predicate: (q) => q.queryKey[0] !== versionKey[0] });
    }
    wasAway.current = false;
    seen.current = data;
  }, [away, data, dataUpdatedAt, queryClient]);
  return reachable;
}
