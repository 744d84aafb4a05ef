// Module-level state that components follow: a set of change listeners, notified
// synchronously, and the hook that re-renders a component when they fire.
import { useLayoutEffect, useState } from "preact/hooks";

export class Listeners {
  private set = new Set<() => void>();
  /** Adds l; returns the function that removes it. */
  add(l: () => void): () => void {
    this.set.add(l);
    return () => {
      this.set.delete(l);
    };
  }
  notify(): void {
    this.set.forEach((l) => l());
  }
}

/** `read()` now, and again whenever `ls` fires. It subscribes in a layout effect and then
 *  compares with what the render saw (see store.ts, useStudyList): a plain effect runs a
 *  frame later, and a change announced in between would be lost. */
export function useListened<T>(ls: Listeners, read: () => T, deps: unknown[] = [], same: (a: T, b: T) => boolean = Object.is): T {
  const [v, setV] = useState(read);
  useLayoutEffect(() => {
    const l = () => setV(() => read());
    const off = ls.add(l);
    const now = read();
    if (!same(now, v)) setV(() => now);
    return off;
  }, deps);
  return v;
}
