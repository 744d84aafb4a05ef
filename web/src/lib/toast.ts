// Small notification queue shown in the corner (at most 4 at a time).
import { useLayoutEffect, useState } from "preact/hooks";

export interface Toast {
  id: number;
  text: string;
  kind: "info" | "error" | "ok";
}

let toasts: Toast[] = [];
let next = 1;
const listeners = new Set<() => void>();

export function toast(text: string, kind: Toast["kind"] = "info", ms = 4000): void {
  const t = { id: next++, text, kind };
  toasts = [...toasts, t].slice(-4);
  listeners.forEach((l) => l());
  window.setTimeout(() => dismiss(t.id), kind === "error" ? ms * 2 : ms);
}

export function dismiss(id: number): void {
  toasts = toasts.filter((t) => t.id !== id);
  listeners.forEach((l) => l());
}

export function useToasts(): Toast[] {
  const [s, set] = useState(toasts);
  // (a layout effect and a re-read: see store.ts, useStudyList)
  useLayoutEffect(() => {
    const l = () => set(toasts);
    listeners.add(l);
    l();
    return () => {
      listeners.delete(l);
    };
  }, []);
  return s;
}
