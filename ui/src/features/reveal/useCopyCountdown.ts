// Copies a secret through the backend (which owns the clipboard and clears it) and counts down
// to the clearing it promised, so the person sees how long the copy stays.
import { useCallback, useEffect, useState } from "react";
import * as ipc from "../../lib/ipc";
import { formError } from "../../lib/errors";

export type CopyState =
  | { phase: "idle" }
  | { phase: "copying"; what: string }
  | { phase: "copied"; what: string; endsAt: number; remaining: number }
  | { phase: "cleared"; what: string }
  | { phase: "error"; message: string };

export function useCopyCountdown() {
  const [state, setState] = useState<CopyState>({ phase: "idle" });

  const copy = useCallback(async (text: string, what: string) => {
    setState({ phase: "copying", what });
    try {
      const receipt = await ipc.copySecret(text);
      const seconds = Math.max(0, receipt.clearsInSeconds);
      setState({ phase: "copied", what, endsAt: Date.now() + seconds * 1000, remaining: seconds });
    } catch (e) {
      setState({ phase: "error", message: formError(e).message });
    }
  }, []);

  const endsAt = state.phase === "copied" ? state.endsAt : null;
  const what = state.phase === "copied" ? state.what : "";
  useEffect(() => {
    if (endsAt === null) return;
    const tick = () => {
      const remaining = Math.ceil((endsAt - Date.now()) / 1000);
      setState(remaining <= 0 ? { phase: "cleared", what } : { phase: "copied", what, endsAt, remaining });
    };
    const id = window.setInterval(tick, 250);
    return () => window.clearInterval(id);
  }, [endsAt, what]);

  return { state, copy };
}
