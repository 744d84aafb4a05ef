// Form values, validation, and the outbox of ratings. The server cannot re-open a
// COMPLETE trial (tell on a finished trial is refused), so "undo" works only before a
// rating is sent: each rating waits in the outbox for the undo window (default 3 s,
// Settings) and is sent when it expires, when the page is hidden, or at once with 0 s.
import { Listeners, useListened } from "./listeners";
import { api, ApiError } from "./api";
import { byNumber, currentStudy, patchTrial, view } from "./store";
import { toast } from "./toast";
import type { FormWidgets, Trial } from "./types";
import { num } from "./types";

export type FormValue = number | string | null;

export function initialFormValues(fw: FormWidgets, t: Trial): FormValue[] {
  return fw.widgets.map((w) => {
    switch (w.type) {
      case "choice":
        return null;
      case "slider":
        return w.min;
      case "text":
        return "";
      case "user_attr": {
        const a = t.user_attrs.find((x) => x.key === w.key);
        return a ? a.value : null;
      }
    }
  });
}

/** Values of a finished trial, for the read-only form. */
export function finishedFormValues(fw: FormWidgets, t: Trial): FormValue[] {
  return fw.widgets.map((w, i) => {
    if (fw.output_type === "objective") return t.values ? num(t.values[i]) : null;
    const key = (w as any).user_attr_key as string | null;
    const a = key ? t.user_attrs.find((x) => x.key === key) : undefined;
    if (!a) return null;
    if (w.type === "text") return a.value;
    return Number(a.value);
  });
}

const FLOAT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** Why each widget is invalid ("" = valid). */
export function validate(fw: FormWidgets, vals: FormValue[]): string[] {
  return fw.widgets.map((w, i) => {
    const v = vals[i];
    switch (w.type) {
      case "choice":
        return v === null ? "Pick a choice." : "";
      case "slider":
        return typeof v === "number" ? "" : "Set a value.";
      case "text": {
        const s = typeof v === "string" ? v.trim() : "";
        if (fw.output_type === "objective") return FLOAT.test(s) && !Number.isNaN(Number(s)) ? "" : "Please input a number.";
        return s === "" && !w.optional ? "Please input some text." : "";
      }
      case "user_attr":
        return v !== null && v !== "" && FLOAT.test(String(v).trim()) ? "" : `trial.user_attrs[${w.key}] is missing or not a number.`;
    }
  });
}

export interface Payload {
  kind: "tell" | "attrs" | "fail";
  values?: number[];
  attrs?: Record<string, string | number>;
}

export function payloadOf(fw: FormWidgets, vals: FormValue[]): Payload {
  if (fw.output_type === "objective") return { kind: "tell", values: vals.map((v) => Number(v)) };
  const attrs: Record<string, string | number> = {};
  fw.widgets.forEach((w, i) => {
    const key = (w as any).user_attr_key as string | null;
    if (!key) return;
    const v = vals[i];
    attrs[key] = w.type === "text" ? String(v ?? "") : v === null ? "" : Number(v);
  });
  return { kind: "attrs", attrs };
}

// ---- outbox --------------------------------------------------------------------------

export interface Pending {
  seq: number;
  studyId: number;
  trial: Trial;
  payload: Payload;
  formValues: FormValue[];
  dueAt: number;
  timer: number | undefined;
  sending: boolean;
}

let seq = 1;
let outbox: Pending[] = [];
const listeners = new Listeners();
const notify = () => listeners.notify();

export function undoWindowMs(): number {
  const v = Number(localStorage.getItem("loupe.undoMs") ?? "3000");
  return Number.isFinite(v) && v >= 0 ? Math.min(v, 30000) : 3000;
}
export function setUndoWindowMs(ms: number): void {
  localStorage.setItem("loupe.undoMs", String(ms));
}

/** Queues a rating (or a Fail); it is sent when the undo window ends. */
export function submit(studyId: number, trial: Trial, payload: Payload, formValues: FormValue[], delayMs = undoWindowMs()): Pending {
  const p: Pending = { seq: seq++, studyId, trial, payload, formValues, dueAt: Date.now() + delayMs, timer: undefined, sending: false };
  outbox = [...outbox, p];
  if (delayMs <= 0) void send(p);
  else p.timer = window.setTimeout(() => void send(p), delayMs);
  notify();
  return p;
}

async function send(p: Pending): Promise<void> {
  if (p.sending || !outbox.includes(p)) return;
  p.sending = true;
  window.clearTimeout(p.timer);
  notify();
  try {
    if (p.payload.kind === "tell") await api.tell(p.trial.trial_id, "Complete", p.payload.values!);
    else if (p.payload.kind === "fail") await api.tell(p.trial.trial_id, "Fail");
    else await api.setUserAttrs(p.trial.trial_id, p.payload.attrs!);
    applyLocally(p);
  } catch (e) {
    const why = e instanceof ApiError ? e.message : String(e);
    toast(`Trial ${p.trial.number}: the rating was not saved: ${why}`, "error");
  } finally {
    outbox = outbox.filter((x) => x !== p);
    notify();
  }
}

/** Shows the change at once; the server's event brings the authoritative trial. */
function applyLocally(p: Pending): void {
  const s = currentStudy();
  if (!s || s.id !== p.studyId) return;
  const t = byNumber(view(s), p.trial.number);
  if (!t || t.trial_id !== p.trial.trial_id) return;
  const now = new Date().toISOString().replace("Z", "");
  if (p.payload.kind === "tell") patchTrial(p.studyId, t.number, { state: "Complete", values: p.payload.values, datetime_complete: now });
  else if (p.payload.kind === "fail") patchTrial(p.studyId, t.number, { state: "Fail", datetime_complete: now });
  else {
    const attrs = t.user_attrs.filter((a) => !(a.key in p.payload.attrs!));
    for (const [key, v] of Object.entries(p.payload.attrs!)) attrs.push({ key, value: String(v) });
    patchTrial(p.studyId, t.number, { user_attrs: attrs });
  }
}

/** Cancels the newest rating that has not been sent; returns it, or null. */
export function undoLast(studyId: number): Pending | null {
  for (let i = outbox.length - 1; i >= 0; i--) {
    const p = outbox[i];
    if (p.studyId === studyId && !p.sending) {
      window.clearTimeout(p.timer);
      outbox = outbox.filter((x) => x !== p);
      notify();
      return p;
    }
  }
  return null;
}

export function sendNow(p: Pending): void {
  void send(p);
}

/** Sends everything at once (page hidden or closed): nothing queued is ever lost. */
export function flushAll(): void {
  for (const p of outbox) {
    if (p.sending) continue;
    window.clearTimeout(p.timer);
    const body =
      p.payload.kind === "tell" ? { state: "Complete", values: p.payload.values } : p.payload.kind === "fail" ? { state: "Fail" } : { user_attrs: p.payload.attrs };
    const path = p.payload.kind === "attrs" ? `api/trials/${p.trial.trial_id}/user-attrs` : `api/trials/${p.trial.trial_id}/tell`;
    p.sending = true;
    void fetch(new URL(path, document.baseURI), { method: "POST", keepalive: true, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  }
}
window.addEventListener("pagehide", flushAll);

export function isQueued(trialId: number): boolean {
  return outbox.some((p) => p.trial.trial_id === trialId);
}

export function useOutbox(): Pending[] {
  return useListened(listeners, () => outbox);
}
