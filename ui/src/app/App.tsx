// Chooses the screen from app_status: first run -> setup, signed out -> sign-in, else the shell.
import { QueryClientProvider, useQuery, useQueryClient } from "@tanstack/react-query";
import { Suspense, lazy, useCallback, useEffect, useState } from "react";
import * as ipc from "../lib/ipc";
import type { AppStatus } from "../bindings/AppStatus";
import { SetupPage } from "../features/setup/SetupPage";
import { SignInPage } from "../features/sign-in/SignInPage";
import { ConnectPage } from "../features/connection/ConnectPage";
import { clearUserData, createQueryClient, setSessionEndedListener, statusKey } from "./queryClient";
import { ErrorBanner } from "../components/ui/ErrorBanner";

const client = createQueryClient();

// The signed-in screens load after sign-in, not at start (see AppShell).
const AppShell = lazy(() => import("./AppShell").then((m) => ({ default: m.AppShell })));

export function App() {
  return (
    <QueryClientProvider client={client}>
      <Screens />
    </QueryClientProvider>
  );
}

function Screens() {
  const queryClient = useQueryClient();
  const status = useQuery({ queryKey: statusKey, queryFn: ipc.appStatus });
  const [notice, setNotice] = useState<string | null>(null);

  const endSession = useCallback(
    (reason: string | null) => {
      clearUserData(queryClient);
      queryClient.setQueryData<AppStatus>(statusKey, (s) => (s ? { ...s, me: null } : s));
      setNotice(reason);
      void queryClient.invalidateQueries({ queryKey: statusKey });
    },
    [queryClient],
  );

  useEffect(() => {
    setSessionEndedListener((reason) => endSession(reason));
  }, [endSession]);

  const signedIn = useCallback(() => {
    setNotice(null);
    void queryClient.invalidateQueries({ queryKey: statusKey });
  }, [queryClient]);

  if (status.isPending) {
    return <Busy text="Starting Tessera…" />;
  }
  if (status.isError) {
    return (
      <main className="center-page">
        <ErrorBanner error={status.error} prefix="Tessera could not read its state" />
        <button className="btn" type="button" onClick={() => void status.refetch()}>
          Try again
        </button>
      </main>
    );
  }
  const s = status.data;
  if (s.unconnected) return <ConnectPage unconnected={s.unconnected} />;
  if (!s.initialised) return <SetupPage keyWarning={s.keyWarning} onDone={signedIn} />;
  if (!s.me) return <SignInPage company={s.company} notice={notice} onSignedIn={signedIn} teamUrl={s.team?.url ?? null} />;
  return (
    <Suspense fallback={<Busy text="Opening…" />}>
      <AppShell status={s} me={s.me} onSessionEnd={endSession} />
    </Suspense>
  );
}

function Busy({ text }: { text: string }) {
  return (
    <main className="center-page" aria-busy="true">
      <p className="muted">{text}</p>
    </main>
  );
}
