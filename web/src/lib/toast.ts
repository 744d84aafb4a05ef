// Small notification queue shown in the corner (at most 4 at a time).
import { Listeners, useListened } from "./listeners";

export interface Toast {
  id: number;
  text: string;
  kind: "info" | "error" | "ok";
}

let toasts: Toast[] = [];
let next = 1;
const listeners = new Listeners();

export function toast(text: string, kind: Toast["kind"] = "info", ms = 4000): void {
  const t = { id: next++, text, kind };
  toasts = [...toasts, t].slice(-4);
  listeners.notify();
  window.setTimeout(() => dismiss(t.id), kind === "error" ? ms * 2 : ms);
}

export function dismiss(id: number): void {
  toasts = toasts.filter((t) => t.id !== id);
  listeners.notify();
}

export function useToasts(): Toast[] {
  return useListened(listeners, () => toasts);
}
