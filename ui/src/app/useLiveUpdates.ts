// Changes made elsewhere (another admin's window, the CLI, a team server's other users) show
// up without a manual refresh: the window polls a version that moves whenever anything
// changes, and refetches what it shows when it moves. Polling keeps no session open.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import * as ipc from "../lib/ipc";
import { LIVE_KEY } from "./queryClient";

const versionKey = [LIVE_KEY] as const;
/** How often to ask, in milliseconds. */
export const LIVE_POLL_MS = 3_000;

export function useLiveUpdates() {
  const queryClient = useQueryClient();
  const { data } = useQuery({
    queryKey: versionKey,
    queryFn: ipc.storeVersion,
    refetchInterval: LIVE_POLL_MS,
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
  const seen = useRef<number | undefined>(undefined);
  useEffect(() => {
    if (data === undefined) return;
    if (seen.current !== undefined && data !== seen.current) {
      void queryClient.invalidateQueries({ predicate: (q) => q.queryKey[0] !== versionKey[0] });
    }
    seen.current = data;
  }, [data, queryClient]);
}
