// Client state: the study list and one loaded study, kept current by a single
// Server-Sent Events stream (GET api/events) that is re-opened after server restarts.
// Changes are applied in place (a trial replaced by its number) and announced once per
// microtask, so a burst of events costs one re-render and nothing is ever re-polled.
import { useEffect, useLayoutEffect, useState } from "preact/hooks";
import { api, url } from "./api";
import type { StudyDetailWire } from "./types";
import { parseStudySliced } from "./sliceparse";
import { FeedParser, plainTrial, viewRows, type CompactTrials } from "./compact";
import type { Meta, StudyInfo, StudySummary, Trial, TrialCounts } from "./types";
import { toast } from "./toast";

export interface StudyData {
  id: number;
  info: StudyInfo | null;
  /** trials[number]; the server numbers a study's trials 0..n-1. */
  trials: Trial[];
  /** Bumped on every change; memoise derived data on it. */
  version: number;
  error: string | null;
  deleted: boolean;
  /** While a large study's full trial list loads: its newest trials (by number), so the
   *  rating queue can start at once; null once `trials` holds everything. */
  tail: Trial[] | null;
  /** Trial counts from the study list, used while `tail` stands in for the trials. */
  tailCounts: TrialCounts | null;
  /** Bytes of the full trial list received so far (progress while loading). */
  received: number;
}

type Listener = () => void;

class Emitter {
  private listeners = new Set<Listener>();
  private scheduled = false;
  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  get size(): number {
    return this.listeners.size;
  }
  /** Notifies once per microtask, however many changes were applied. */
  emit(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.listeners.forEach((l) => l());
    });
  }
}

// ---- study list --------------------------------------------------------------------

export const studyList = {
  summaries: null as StudySummary[] | null,
  error: null as string | null,
  version: 0,
  emitter: new Emitter(),
  async load(): Promise<void> {
    try {
      const r = await api.studies();
      this.set(r.study_summaries);
      this.error = null;
    } catch (e) {
      this.error = (e as Error).message;
      this.version++;
      this.emitter.emit();
    }
  },
  set(s: StudySummary[]): void {
    this.summaries = s;
    this.version++;
    this.emitter.emit();
  },
};

// Every hook below subscribes in a layout effect, which runs in the same task as the
// render, and then compares with what that render saw: a plain effect runs a frame later
// (up to 35 ms, more on a busy machine), and a change announced in between was lost for
// good, leaving a page at "Loading study…" although the study had arrived.

export function useStudyList(): typeof studyList {
  const [, setV] = useState(0);
  const seen = studyList.version;
  useLayoutEffect(() => {
    const un = studyList.emitter.subscribe(() => setV(studyList.version));
    if (studyList.version !== seen) setV(studyList.version);
    if (studyList.summaries === null) void studyList.load();
    live.wantList();
    return un;
  }, []);
  return studyList;
}

// ---- meta ----------------------------------------------------------------------------

let metaPromise: Promise<Meta> | null = null;
let metaValue: Meta | null = null;
export function useMeta(): Meta | null {
  const [m, setM] = useState<Meta | null>(metaValue);
  useEffect(() => {
    if (!metaPromise)
      metaPromise = api.meta().catch(() => ({ artifact_is_available: false }) as Meta);
    void metaPromise.then((v) => {
      metaValue = v;
      setM(v);
    });
  }, []);
  return m;
}

// ---- the loaded study ----------------------------------------------------------------

const studyEmitter = new Emitter();
let study: StudyData | null = null;

function bump(): void {
  if (!study) return;
  study = { ...study, version: study.version + 1 };
  studyEmitter.emit();
}

/** Replaces or appends trials (by number); false when none of them changed anything. */
export function applyTrials(studyId: number, trials: Trial[]): boolean {
  if (!study || study.id !== studyId) return false;
  if (study.tail) {
    // Full list still loading: keep the tail current (events are re-applied afterwards).
    const tail = study.tail;
    for (const t of trials) {
      const i = tail.findIndex((x) => x.number === t.number);
      if (i >= 0) tail[i] = t;
      else if (!tail.length || t.number > tail[tail.length - 1].number) tail.push(t);
    }
    bump();
    return true;
  }
  const arr = study.trials;
  let changed = false;
  for (const t of trials) {
    if (t.number < arr.length) {
      // The catch-up after the first load re-sends the unfinished trials as they are: no
      // change, no re-render (the plots redraw 100,000 points on every one).
      if (same(arr[t.number], t)) continue;
      arr[t.number] = t;
    } else {
      while (arr.length < t.number) arr.push(placeholder(studyId, arr.length));
      arr.push(t);
    }
    changed = true;
  }
  if (changed) bump();
  return changed;
}

function same(a: Trial, b: Trial): boolean {
  return a === b || JSON.stringify(plainTrial(a)) === JSON.stringify(b);
}

function placeholder(studyId: number, number: number): Trial {
  return {
    trial_id: -1, study_id: studyId, number, state: "Waiting", params: [], fixed_params: [], user_attrs: [],
    note: { version: 0, body: "" }, artifacts: [], constraints: [], intermediate_values: [],
  };
}

function applyInfo(studyId: number, info: Partial<StudyInfo>): void {
  if (!study || study.id !== studyId) return;
  const { trials: _t, study_id: _s, ...rest } = info as any;
  study.info = { ...(study.info ?? ({} as StudyInfo)), ...rest };
  bump();
}

/** Local optimistic change of one trial (e.g. after a rating); the server's event confirms it. */
export function patchTrial(studyId: number, number: number, patch: Partial<Trial>): void {
  if (!study || study.id !== studyId) return;
  if (study.tail) {
    const i = study.tail.findIndex((x) => x.number === number);
    if (i >= 0) study.tail[i] = { ...plainTrial(study.tail[i]), ...patch };
  }
  if (study.trials[number]) study.trials[number] = { ...plainTrial(study.trials[number]), ...patch };
  bump();
}

/** The trials a page can work with now: all of them, or the newest while they load. */
export function liveTrials(s: StudyData): Trial[] {
  return s.tail ?? s.trials;
}

/** What pages draw from: the study, or while a large one loads, a view of its newest
 *  trials (`partial`), so every page is usable before tens of MB have arrived. */
export type StudyView = StudyData & { partial: boolean };
const views = new WeakMap<object, StudyView>();
export function view(s: StudyData): StudyView {
  if (!s.tail) return Object.assign(s, { partial: false });
  let v = views.get(s);
  if (!v) {
    v = { ...s, trials: s.tail, partial: true };
    views.set(s, v);
  }
  return v;
}

/** A trial by its number (trials[number] when the list is complete). */
export function byNumber(s: StudyData, n: number): Trial | undefined {
  const t = s.trials[n];
  if (t && t.number === n) return t;
  return s.trials.find((x) => x.number === n);
}

export function patchInfo(studyId: number, patch: Partial<StudyInfo>): void {
  applyInfo(studyId, patch);
}

/** Fetches the whole study, counting bytes as they arrive (shown while large studies load):
 *  loupe's compact feed (a sixth of the bytes of api/studies/:id) when the server has it. */
async function fetchStudy(id: number, gate: Promise<void>): Promise<StudyDetailWire> {
  let res = await fetch(url(`api/studies/${id}/compact`), { credentials: "same-origin" });
  const compact = res.ok;
  if (!compact) res = await fetch(url(`api/studies/${id}`), { credentials: "same-origin" });
  if (!res.ok || !res.body) return api.study(id);
  if (compact) return decodeCompact(await readFeed(res.body, gate));
  // The full detail (servers without the compact feed) is counted as it arrives.
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let last = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    if (study && study.id === id) {
      study.received += value.length;
      if (Date.now() - last > 200) {
        last = Date.now();
        bump();
      }
    }
  }
  const text = await new Blob(parts as BlobPart[]).text();
  try {
    return await parseStudySliced(text);
  } catch {
    return JSON.parse(text);
  }
}

/** A compact feed parsed as it arrives (FeedParser), once `gate` has opened (a large
 *  study's newest trials are drawn first; chunks that come before wait as text). */
async function readFeed(body: ReadableStream<Uint8Array>, gate: Promise<void>): Promise<StudyDetailWire & { compact_trials: CompactTrials }> {
  const reader = body.getReader();
  const dec = new TextDecoder();
  const parser = new FeedParser();
  const all: string[] = [];
  let fed = 0;
  let open = false;
  void gate.then(() => (open = true));
  let broken = false;
  const feed = () => {
    for (; fed < all.length && !broken; fed++) {
      try {
        parser.push(all[fed]);
      } catch {
        broken = true; // not the expected layout: parsed whole below
      }
    }
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    all.push(dec.decode(value, { stream: true }));
    if (open) feed();
  }
  all.push(dec.decode());
  await gate;
  feed();
  if (!broken) {
    try {
      return parser.finish();
    } catch {
      // as above
    }
  }
  return JSON.parse(all.join(""));
}

/** The trials of a compact study as views of its rows (RowTrial: 100,000 of them take
 *  milliseconds, their fields are read when a page asks). */
function decodeCompact(d: StudyDetailWire & { compact_trials: CompactTrials }): StudyDetailWire {
  const { compact_trials: c, ...rest } = d;
  const trials: Trial[] = new Array(c.rows.length);
  viewRows(c, 0, c.rows.length, trials);
  return { ...rest, trials };
}

/** gate: parsing waits for it (a large study's newest trials are drawn first). */
async function loadStudy(id: number, gate: Promise<void> = Promise.resolve()): Promise<void> {
  try {
    const d = await fetchStudy(id, gate);
    if (!study || study.id !== id) return;
    const { trials, ...info } = d;
    study = { ...study, info, trials, tail: null, tailCounts: null, version: study.version + 1, error: null };
    studyEmitter.emit();
  } catch (e) {
    if (!study || study.id !== id) return;
    study = { ...study, error: (e as Error).message, version: study.version + 1 };
    studyEmitter.emit();
  }
}

function selectStudy(id: number): void {
  if (study && study.id === id) return;
  study = { id, info: null, trials: [], version: 0, error: null, deleted: false, tail: null, tailCounts: null, received: 0 };
  live.connect(id);
}

/** Fetches trials from the first unfinished one on, plus the study-level data. */
async function catchUp(id: number): Promise<void> {
  if (!study || study.id !== id || !study.info) return loadStudy(id);
  let k = study.trials.findIndex((t) => t.state === "Running" || t.state === "Waiting");
  if (k < 0) k = study.trials.length;
  try {
    const d = await api.studyAfter(id, k);
    if (!study || study.id !== id) return;
    const { trials, ...info } = d;
    const news = study.error !== null || JSON.stringify(study.info) !== JSON.stringify(info);
    study.info = info;
    study.error = null;
    if (!applyTrials(id, trials) && news) bump();
  } catch (e) {
    if (study && study.id === id) {
      study = { ...study, error: (e as Error).message, version: study.version + 1 };
      studyEmitter.emit();
    }
  }
}

/** Resolves once the next frame has been drawn (or after 100 ms in a tab that draws none). */
function afterPaint(): Promise<void> {
  return new Promise((resolve) => {
    const t = window.setTimeout(resolve, 100);
    requestAnimationFrame(() =>
      window.setTimeout(() => {
        window.clearTimeout(t);
        resolve();
      }, 0),
    );
  });
}

const TAIL_ABOVE = 5000;
const TAIL_SIZE = 1000;

/** Starts the first fetch of a study without waiting for the stream to open. A large
 *  study's newest trials are fetched first (`?after=`), so every page is usable while the
 *  full list (18 MB at 100,000 trials) is still to come. That download starts once they
 *  have arrived, and its parse once they are on screen: while it streams in, the browser is
 *  slow to deliver anything else (the page's code chunks waited a second behind it). */
async function firstLoad(id: number): Promise<void> {
  // The small list request goes out first: it says whether the study is large.
  const listP = studyList.summaries ? Promise.resolve(studyList.summaries) : api.studies().then((r) => r.study_summaries);
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let full: Promise<void> | null = null;
  try {
    const list = await listP;
    if (!studyList.summaries) studyList.set(list);
    const c = list.find((x) => x.study_id === id)?.trial_counts;
    const n = c ? c.running + c.complete + c.pruned + c.fail + c.waiting : 0;
    if (c && n > TAIL_ABOVE && study && study.id === id && !study.info) {
      const d = await api.studyAfter(id, n - TAIL_SIZE);
      full = loadStudy(id, gate);
      if (study && study.id === id && !study.info) {
        const { trials, ...info } = d;
        study = { ...study, info, tail: trials, tailCounts: c, version: study.version + 1 };
        studyEmitter.emit();
        await afterPaint();
      }
    }
  } catch {
    // The full load reports errors.
  } finally {
    open();
  }
  await (full ?? loadStudy(id));
}

export function useStudy(id: number): StudyData {
  const [, setV] = useState(0);
  selectStudy(id);
  const seen = study;
  useLayoutEffect(() => {
    const un = studyEmitter.subscribe(() => setV((v) => v + 1));
    if (study !== seen) setV((v) => v + 1);
    return un;
  }, [id]);
  return study!;
}

/** The currently loaded study, for code outside components. */
export function currentStudy(): StudyData | null {
  return study;
}

// ---- live stream ----------------------------------------------------------------------

export type LiveStatus = "connecting" | "live" | "reconnecting";
const statusEmitter = new Emitter();

class Live {
  status: LiveStatus = "connecting";
  private es: EventSource | null = null;
  private studyId: number | null = null;
  private backoff = 500;
  private timer: number | undefined;
  private listWanted = false;
  private loading: Promise<void> | null = null;
  private buffered: MessageEvent[] = [];

  wantList(): void {
    this.listWanted = true;
    if (!this.es) this.open();
  }

  connect(studyId: number | null): void {
    if (this.es && this.studyId === studyId) return;
    this.studyId = studyId;
    this.buffered = [];
    if (studyId !== null) {
      // Fetch now; events that arrive meanwhile are applied after the snapshot.
      this.loading = firstLoad(studyId).then(() => this.drain());
    }
    this.open();
  }

  private drain(): void {
    this.loading = null;
    const b = this.buffered;
    this.buffered = [];
    b.forEach((ev) => this.dispatch(ev));
  }

  private setStatus(s: LiveStatus): void {
    this.status = s;
    statusEmitter.emit();
  }

  private open(): void {
    if (this.es) this.es.close();
    window.clearTimeout(this.timer);
    const q = this.studyId === null ? "" : `?study_id=${this.studyId}`;
    const es = new EventSource(url(`api/events${q}`), { withCredentials: true });
    this.es = es;
    const handler = (ev: MessageEvent) => {
      if (this.es !== es) return;
      if (this.loading) {
        this.buffered.push(ev);
        if (study?.tail) this.dispatch(ev);
      } else this.dispatch(ev);
    };
    for (const name of ["studies", "trials", "study", "deleted"]) es.addEventListener(name, handler as any);
    es.onopen = () => {
      if (this.es !== es) return;
      this.backoff = 500;
      this.setStatus("live");
      // (Re)connected: after the first snapshot (or the one we hold), fetch only what may
      // have changed while the stream was not open (trials from the first unfinished one).
      if (this.listWanted) void studyList.load();
      const id = this.studyId;
      if (id === null) return;
      const prev = this.loading ?? Promise.resolve();
      this.loading = prev.then(() => catchUp(id)).then(() => this.drain());
    };
    es.onerror = () => {
      if (this.es !== es) return;
      if (es.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. the server answered 5xx while restarting): retry ourselves.
        es.close();
        this.es = null;
        this.setStatus("reconnecting");
        this.timer = window.setTimeout(() => this.open(), this.backoff);
        this.backoff = Math.min(this.backoff * 2, 5000);
      } else {
        this.setStatus("reconnecting");
      }
    };
  }

  private dispatch(ev: MessageEvent): void {
    let data: any;
    try {
      data = JSON.parse(ev.data);
    } catch {
      return;
    }
    switch (ev.type) {
      case "studies":
        studyList.set(data.study_summaries ?? []);
        break;
      case "trials":
        applyTrials(data.study_id, data.trials ?? []);
        break;
      case "study":
        applyInfo(data.study_id, data);
        break;
      case "deleted":
        if (study && study.id === data.study_id) {
          study = { ...study, deleted: true, version: study.version + 1 };
          studyEmitter.emit();
          toast(`Study ${data.study_id} was deleted.`, "error");
        }
        if (studyList.summaries) studyList.set(studyList.summaries.filter((s) => s.study_id !== data.study_id));
        break;
    }
  }
}

export const live = new Live();

export function useLiveStatus(): LiveStatus {
  const [s, setS] = useState(live.status);
  useLayoutEffect(() => {
    const un = statusEmitter.subscribe(() => setS(live.status));
    setS(live.status);
    return un;
  }, []);
  return s;
}

/** Re-fetches the loaded study (after a local change whose event may not come, e.g. errors). */
export function reloadStudy(): void {
  if (study) void loadStudy(study.id);
}
