// Backend state lives in TanStack Query. A command answering Unauthenticated (session expired
// or locked elsewhere) sends the app back to sign-in: we refetch app_status, whose `me` is
// then null, and drop every cached user-specific answer.
import { MutationCache, QueryCache, QueryClient } from "@tanstack/react-query";
import { isIpcFailure } from "../lib/ipc";

export const statusKey = ["status"] as const;
/** The live-updates poll's query key (see useLiveUpdates). */
export const LIVE_KEY = "store-version";

type SessionEndedListener = (reason: string) => void;
let onSessionEnded: SessionEndedListener = () => {};
export function setSessionEndedListener(listener: SessionEndedListener) {
  onSessionEnded = listener;
}

function handleError(error: unknown) {
  if (isIpcFailure(error, "Unauthenticated")) {
    onSessionEnded("Your session has ended. Sign in again.");
  }
}

export function createQueryClient(): QueryClient {
  // Anything that finds the store away asks the live poll at once, so the window goes
  // read-only now rather than at the poll's next turn.
  const away = (error: unknown) => {
    if (isIpcFailure(error, "Unavailable")) void client.refetchQueries({ queryKey: [LIVE_KEY] });
  };
  const client: QueryClient = new QueryClient({
    // The background poll for changes (useLiveUpdates) never ends a session by itself: the
    // reason a session ended (an idle lock, say) is the one the person should read.
    queryCache: new QueryCache({
      onError: (error, query) => {
        if (query.queryKey[0] === LIVE_KEY) return;
        handleError(error);
        away(error);
      },
    }),
    mutationCache: new MutationCache({
      onError: (error) => {
        handleError(error);
        away(error);
      },
    }),
    defaultOptions: {
      // Local IPC: a failure is an answer, not a flaky network, so don't retry it.
      queries: { retry: false, staleTime: 5_000, refetchOnWindowFocus: true },
      mutations: { retry: false },
    },
  });
  return client;
}

/** Forget everything but the app status, so no data of a signed-out user stays in memory. */
export function clearUserData(client: QueryClient) {
  client.removeQueries({ predicate: (q) => q.queryKey[0] !== statusKey[0] });
}
