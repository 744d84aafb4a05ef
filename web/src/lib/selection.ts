// Trials selected by brushing the parallel-coordinate plot, shared with the table and
// the history plot (per study; null = no selection).
import { useLayoutEffect, useState } from "preact/hooks";

const sel = new Map<number, Set<number> | null>();
const listeners = new Set<() => void>();

export function setSelection(studyId: number, numbers: Set<number> | null): void {
  sel.set(studyId, numbers);
  listeners.forEach((l) => l());
}

export function getSelection(studyId: number): Set<number> | null {
  return sel.get(studyId) ?? null;
}

export function useSelection(studyId: number): Set<number> | null {
  const [v, setV] = useState(getSelection(studyId));
  // (a layout effect and a re-read: see store.ts, useStudyList)
  useLayoutEffect(() => {
    const l = () => setV(getSelection(studyId));
    listeners.add(l);
    l();
    return () => {
      listeners.delete(l);
    };
  }, [studyId]);
  return v;
}
