// Derived study data (counts, best trials, objective names, formatting), memoised on the
// study's version so pages never recompute over 100,000 trials more than once per change.
import type { StudyData } from "./store";
import type { Direction, StudyInfo, Trial, TrialState } from "./types";
import { num } from "./types";

const caches = new WeakMap<object, Map<string, { v: number; value: unknown }>>();

/** Computes fn() once per (study version, key). */
export function memo<T>(s: StudyData, key: string, fn: () => T): T {
  let m = caches.get(s.trials);
  if (!m) {
    m = new Map();
    caches.set(s.trials, m);
  }
  const hit = m.get(key);
  if (hit && hit.v === s.version) return hit.value as T;
  const value = fn();
  m.set(key, { v: s.version, value });
  return value;
}

export type Counts = Record<TrialState, number>;

export function counts(s: StudyData): Counts {
  if (s.tail && s.tailCounts) {
    const c = s.tailCounts;
    return { Complete: c.complete, Pruned: c.pruned, Fail: c.fail, Running: c.running, Waiting: c.waiting };
  }
  return memo(s, "counts", () => {
    const c: Counts = { Complete: 0, Pruned: 0, Fail: 0, Running: 0, Waiting: 0 };
    for (const t of s.trials) c[t.state]++;
    return c;
  });
}

/** Best trials: the Pareto front for several objectives; for one objective every feasible
 *  COMPLETE trial whose value ties the best (a human rating often ties: all "Good" ones). */
export function bestNumbers(s: StudyData): Set<number> {
  return memo(s, "best", () => {
    const bt = s.info?.best_trials ?? [];
    const set = new Set(bt.map((t) => t.number));
    if (s.info && s.info.directions.length === 1 && bt.length && bt[0].values) {
      const b = num(bt[0].values[0]);
      for (const t of s.tail ?? s.trials) if (t.state === "Complete" && t.values && num(t.values[0]) === b && isFeasible(t)) set.add(t.number);
    }
    return set;
  });
}

export function objectiveNames(info: StudyInfo | null): string[] {
  const n = info?.directions.length ?? 1;
  if (info?.objective_names && info.objective_names.length === n) return info.objective_names;
  return n === 1 ? ["Objective"] : Array.from({ length: n }, (_, i) => `Objective ${i}`);
}

export function values(t: Trial): number[] | null {
  return t.values ? t.values.map(num) : null;
}

export function isFeasible(t: Trial): boolean {
  return !t.constraints || t.constraints.every((c) => c <= 0);
}

export function better(d: Direction, a: number, b: number): boolean {
  return d === "minimize" ? a < b : a > b;
}

export function fmt(v: number | undefined | null, digits = 6): string {
  if (v === undefined || v === null || Number.isNaN(v)) return "–";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "−∞";
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-4)) return v.toExponential(3);
  return String(Number(v.toPrecision(digits)));
}

export function paramDisplay(t: Trial, name: string): string | undefined {
  const p = t.params.find((x) => x.name === name);
  return p?.param_external_value;
}

export function userAttr(t: Trial, key: string): string | undefined {
  return t.user_attrs.find((a) => a.key === key)?.value;
}

export function duration(t: Trial): number | null {
  if (!t.datetime_start || !t.datetime_complete) return null;
  return Date.parse(t.datetime_complete) - Date.parse(t.datetime_start);
}

export function fmtDuration(ms: number | null): string {
  if (ms === null) return "–";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms < 3600000) return `${(ms / 60000).toFixed(1)} min`;
  return `${(ms / 3600000).toFixed(1)} h`;
}

export function fmtDate(s: string | null | undefined): string {
  if (!s) return "–";
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  return d.toLocaleString();
}

export function relTime(s: string | null | undefined): string {
  if (!s) return "never";
  const t = Date.parse(s);
  if (Number.isNaN(t)) return s;
  const d = (Date.now() - t) / 1000;
  if (d < 60) return "just now";
  if (d < 3600) return `${Math.floor(d / 60)} min ago`;
  if (d < 86400) return `${Math.floor(d / 3600)} h ago`;
  return `${Math.floor(d / 86400)} d ago`;
}

/** The trial's rating, shown with the choice label when the form is one choice widget. */
export function ratingLabel(info: StudyInfo | null, t: Trial): string {
  const v = values(t);
  if (!v) return t.state === "Complete" ? "–" : t.state;
  const fw = info?.form_widgets;
  return v
    .map((x, i) => {
      const w = fw?.output_type === "objective" ? fw.widgets[i] : undefined;
      if (w && w.type === "choice") {
        const k = w.values.indexOf(x);
        if (k >= 0) return w.choices[k];
      }
      return fmt(x);
    })
    .join(", ");
}
