// Locks the session after `minutes` without keyboard, mouse or touch input.
import { useEffect, useRef } from "react";

const EVENTS = ["keydown", "mousedown", "mousemove", "wheel", "touchstart", "pointerdown"] as const;

export function useIdleLock(minutes: number, onIdle: () => void, checkEveryMs = 5_000) {
  const lastActivity = useRef(0);
  const onIdleRef = useRef(onIdle);
  useEffect(() => {
    onIdleRef.current = onIdle;
  }, [onIdle]);

  useEffect(() => {
    if (!(minutes > 0)) return;
    lastActivity.current = Date.now();
    let fired = false;
    const touch = () => {
      lastActivity.current = Date.now();
    };
    const check = () => {
      if (!fired && Date.now() - lastActivity.current >= minutes * 60_000) {
        fired = true;
        onIdleRef.current();
      }
    };
    for (const e of EVENTS) window.addEventListener(e, touch, { passive: true, capture: true });
    document.addEventListener("visibilitychange", check);
    const id = window.setInterval(check, checkEveryMs);
    return () => {
      for (const e of EVENTS) window.removeEventListener(e, touch, { capture: true });
      document.removeEventListener("visibilitychange", check);
      window.clearInterval(id);
    };
  }, [minutes, checkEveryMs]);
}
