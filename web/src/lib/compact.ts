// Decodes loupe's compact trial feed (GET api/studies/:id/compact, docs/api.md) into the
// same trials GET api/studies/:id sends: a row [trial_id, state, values, start_us,
// complete_us, [kind, value, ...], [key, value, ...], [step, value, ...]] per trial, by
// number, or a trial's full JSON object where the row could not say everything; either all
// at once into plain objects, or as RowTrial views that read the row on demand. No imports
// but types: tests/browser/compact.test.mjs runs this file in Node against the server.
import type { Distribution, Param, StudyDetailWire, Trial, TrialState, WireNumber } from "./types";

export interface CompactTrials {
  version: number;
  study_id: number;
  rows: (CompactRow | Trial)[];
  params: [string, Distribution][];
}
type CompactRow = [number, TrialState, WireNumber[] | null, number | null, number | null, (number | string)[], string[], WireNumber[]];

const TWO = Array.from({ length: 60 }, (_, i) => (i < 10 ? "0" : "") + i);
let lastDay = NaN;
let lastDate = "";

/** Python's datetime.isoformat() of a naive UTC time given in microseconds. (Date objects
 *  only once per day: 200,000 of them took a fifth of a 100,000-trial study's decoding.) */
export function isoformatUs(us: number): string {
  const secs = Math.floor(us / 1e6);
  const frac = us - secs * 1e6;
  const day = Math.floor(secs / 86400);
  if (day !== lastDay) {
    lastDay = day;
    lastDate = new Date(day * 86400000).toISOString().slice(0, 11);
  }
  let r = secs - day * 86400;
  const h = Math.floor(r / 3600);
  r -= h * 3600;
  const m = Math.floor(r / 60);
  const s = lastDate + TWO[h] + ":" + TWO[m] + ":" + TWO[r - m * 60];
  return frac ? s + "." + String(frac).padStart(6, "0") : s;
}

// Shared by every trial that has none (nothing in the app changes a trial's arrays in place;
// a change replaces the trial): a million fewer objects for the collector at 100,000 trials.
const NONE: never[] = Object.freeze([]) as unknown as never[];
const NO_NOTE = Object.freeze({ version: 0, body: "" });

const FLOAT_PYTYP = "<class 'float'>";
const INT_PYTYP = "<class 'int'>";

function param(name: string, d: Distribution, v: number | string): Param {
  if (d.type === "FloatDistribution") {
    const s = v as string;
    return { name, param_internal_value: Number(s), param_external_value: s, param_external_pytyp: FLOAT_PYTYP, distribution: d };
  }
  if (d.type === "IntDistribution") {
    return { name, param_internal_value: v as number, param_external_value: String(v), param_external_pytyp: INT_PYTYP, distribution: d };
  }
  const c = d.choices[v as number];
  return { name, param_internal_value: v as number, param_external_value: c.value, param_external_pytyp: c.pytype, distribution: d };
}

/** The trials of a compact feed, by number (distribution objects are shared, not copied). */
export function decodeTrials(c: CompactTrials): Trial[] {
  const out: Trial[] = new Array(c.rows.length);
  decodeRows(c, 0, c.rows.length, out);
  return out;
}

/** Decodes rows [from, to) into out[from..to). */
export function decodeRows(c: CompactTrials, from: number, to: number, out: Trial[]): void {
  if (c.version !== 1) throw new Error(`compact trial feed version ${c.version} is not known to this page; reload it`);
  const kinds = c.params;
  const study_id = c.study_id;
  const rows = c.rows;
  for (let number = from; number < to; number++) {
    const r = rows[number];
    if (!Array.isArray(r)) {
      out[number] = r;
      continue;
    }
    const [trial_id, state, values, start, complete, p, a, iv] = r;
    const params: Param[] = [];
    for (let k = 0; k < p.length; k += 2) {
      const [name, d] = kinds[p[k] as number];
      params.push(param(name, d, p[k + 1]));
    }
    let user_attrs: Trial["user_attrs"] = NONE;
    if (a.length) {
      user_attrs = [];
      for (let k = 0; k < a.length; k += 2) user_attrs.push({ key: a[k], value: a[k + 1] });
    }
    let intermediate_values: Trial["intermediate_values"] = NONE;
    if (iv.length) {
      intermediate_values = [];
      for (let k = 0; k < iv.length; k += 2) intermediate_values.push({ step: iv[k] as number, value: iv[k + 1] });
    }
    const t: Trial = {
      trial_id, study_id, number, state, params, fixed_params: NONE, user_attrs,
      note: NO_NOTE, artifacts: NONE, constraints: NONE, intermediate_values,
    };
    if (values) t.values = values;
    if (start !== null) t.datetime_start = isoformatUs(start);
    if (complete !== null) t.datetime_complete = isoformatUs(complete);
    out[number] = t;
  }
}

/** A trial read from its compact row when asked: a 100,000-trial study needs 100,000 of
 *  these small objects instead of a million (trial, params, attrs and their arrays), which
 *  the decoding and, above all, the garbage collector paid for (about 1.5 s at 100,000
 *  trials). The scalars pages loop over (state, values) are read from the row as they are;
 *  params, attrs, intermediate values and times are built on first use and kept. A change
 *  to a trial replaces it with a plain object (store.ts, `plainTrial`), never a setter. */
export class RowTrial implements Trial {
  readonly number: number;
  private readonly r: CompactRow;
  private readonly c: CompactTrials;
  private p?: Param[];
  private a?: Trial["user_attrs"];
  private iv?: Trial["intermediate_values"];
  constructor(c: CompactTrials, r: CompactRow, number: number) {
    this.c = c;
    this.r = r;
    this.number = number;
  }
  get trial_id(): number {
    return this.r[0];
  }
  get study_id(): number {
    return this.c.study_id;
  }
  get state(): TrialState {
    return this.r[1];
  }
  get values(): WireNumber[] | undefined {
    return this.r[2] ?? undefined;
  }
  /** Microseconds (UTC) of the start and completion, or null: for plots, without strings. */
  get startUs(): number | null {
    return this.r[3];
  }
  get completeUs(): number | null {
    return this.r[4];
  }
  get datetime_start(): string | undefined {
    return this.r[3] === null ? undefined : isoformatUs(this.r[3]);
  }
  get datetime_complete(): string | undefined {
    return this.r[4] === null ? undefined : isoformatUs(this.r[4]);
  }
  get params(): Param[] {
    if (!this.p) {
      const p = this.r[5];
      const kinds = this.c.params;
      const out: Param[] = [];
      for (let k = 0; k < p.length; k += 2) {
        const [name, d] = kinds[p[k] as number];
        out.push(param(name, d, p[k + 1]));
      }
      this.p = out;
    }
    return this.p;
  }
  get user_attrs(): Trial["user_attrs"] {
    if (!this.a) {
      const a = this.r[6];
      let out: Trial["user_attrs"] = NONE;
      if (a.length) {
        out = [];
        for (let k = 0; k < a.length; k += 2) out.push({ key: a[k], value: a[k + 1] });
      }
      this.a = out;
    }
    return this.a;
  }
  get intermediate_values(): Trial["intermediate_values"] {
    if (!this.iv) {
      const iv = this.r[7];
      let out: Trial["intermediate_values"] = NONE;
      if (iv.length) {
        out = [];
        for (let k = 0; k < iv.length; k += 2) out.push({ step: iv[k] as number, value: iv[k + 1] });
      }
      this.iv = out;
    }
    return this.iv;
  }
  get fixed_params(): Trial["fixed_params"] {
    return NONE;
  }
  get note(): Trial["note"] {
    return NO_NOTE;
  }
  get artifacts(): Trial["artifacts"] {
    return NONE;
  }
  get constraints(): number[] {
    return NONE;
  }
}

const TRIAL_KEYS = ["trial_id", "study_id", "number", "state", "params", "fixed_params", "user_attrs", "note", "artifacts", "constraints", "intermediate_values", "values", "datetime_start", "datetime_complete"] as const;

/** A trial as a plain object (a RowTrial's fields read once), e.g. to spread a change over. */
export function plainTrial(t: Trial): Trial {
  if (!(t instanceof RowTrial)) return t;
  const o: Record<string, unknown> = {};
  for (const k of TRIAL_KEYS) if (t[k] !== undefined) o[k] = t[k];
  return o as unknown as Trial;
}

/** Rows [from, to) as trials read on demand (RowTrial) into out[from..to). */
export function viewRows(c: CompactTrials, from: number, to: number, out: Trial[]): void {
  if (c.version !== 1) throw new Error(`compact trial feed version ${c.version} is not known to this page; reload it`);
  const rows = c.rows;
  for (let number = from; number < to; number++) {
    const r = rows[number];
    out[number] = Array.isArray(r) ? new RowTrial(c, r, number) : r;
  }
}

/** Parses a compact feed's JSON text as it arrives, a chunk at a time (push), so parsing
 *  overlaps the download instead of following it (one JSON.parse of the 18 MB of a
 *  100,000-trial study held the page for 0.3-1.2 s after the last byte). A small scanner
 *  finds where the rows array starts (the server writes `"compact_trials": {"version": 1,
 *  "study_id": N, "rows": [`, the last key, whose quotes cannot occur unescaped inside a
 *  string) and where each row ends (depth and strings tracked); complete rows are parsed in
 *  one JSON.parse a chunk, the rest of the document once at the end. finish() throws when
 *  the text was not such a feed: the caller then parses the whole text. */
export class FeedParser {
  private state: "head" | "rows" | "after" = "head";
  private head = "";
  /** Text of rows begun but not complete (before "rows"/after: the text not yet placed). */
  private pending = "";
  private depth = 0;
  private inString = false;
  private escaped = false;
  private rows: unknown[] = [];
  private static MARK = '"compact_trials": {"version": 1, "study_id": ';
  private static ROWS = '"rows": [';

  push(chunk: string): void {
    if (this.state === "head") {
      const all = this.pending + chunk;
      const m = all.indexOf(FeedParser.MARK);
      const r = m < 0 ? -1 : all.indexOf(FeedParser.ROWS, m);
      if (r < 0) {
        this.pending = all;
        return;
      }
      const open = r + FeedParser.ROWS.length;
      this.head = all.slice(0, open);
      this.pending = "";
      this.state = "rows";
      chunk = all.slice(open);
    }
    if (this.state === "rows") this.scan(chunk);
    else this.pending += chunk;
  }

  /** Scans a chunk (never the joined text: reading a concatenated string char by char is
   *  slow in V8) and parses the rows completed so far. */
  private scan(c: string): void {
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    let lastComma = -1;
    let end = -1;
    for (let i = 0; i < c.length; i++) {
      const ch = c.charCodeAt(i);
      if (inString) {
        if (escaped) escaped = false;
        else if (ch === 92) escaped = true; // backslash
        else if (ch === 34) inString = false;
        continue;
      }
      if (ch === 34) inString = true;
      else if (ch === 91 || ch === 123) depth++;
      else if (ch === 93 || ch === 125) {
        if (depth === 0) {
          end = i; // the rows array closes
          break;
        }
        depth--;
      } else if (ch === 44 && depth === 0) lastComma = i;
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    const upTo = end >= 0 ? end : lastComma;
    if (upTo < 0) {
      this.pending += c;
      return;
    }
    const part = this.pending + c.slice(0, upTo);
    if (end < 0 || part.trim()) for (const r of JSON.parse("[" + part + "]")) this.rows.push(r);
    if (end >= 0) this.state = "after";
    this.pending = end >= 0 ? c.slice(end) : c.slice(upTo + 1);
  }

  /** The whole document, its rows those parsed on the way. */
  finish(): StudyDetailWire & { compact_trials: CompactTrials } {
    if (this.state !== "after") throw new Error("not a compact trial feed");
    const d = JSON.parse(this.head + this.pending);
    const c = d?.compact_trials;
    if (!c || !Array.isArray(c.rows) || c.rows.length) throw new Error("not a compact trial feed");
    c.rows = this.rows;
    return d;
  }
}

/** The study detail of a compact feed, as GET api/studies/:id would have sent it. */
export function decodeStudy(d: StudyDetailWire & { compact_trials: CompactTrials }): StudyDetailWire {
  const { compact_trials, ...rest } = d;
  return { ...rest, trials: decodeTrials(compact_trials) };
}
