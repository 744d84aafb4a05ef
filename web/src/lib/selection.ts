// Trials selected by brushing the parallel-coordinate plot, shared with the table and
// the history plot (per study; null = no selection).
import { Listeners, useListened } from "./listeners";

const sel = new Map<number, Set<number> | null>();
const listeners = new Listeners();

export function setSelection(studyId: number, numbers: Set<number> | null): void {
  sel.set(studyId, numbers);
  listeners.notify();
}

export function getSelection(studyId: number): Set<number> | null {
  return sel.get(studyId) ?? null;
}

export function useSelection(studyId: number): Set<number> | null {
  return useListened(listeners, () => getSelection(studyId), [studyId]);
}
