// Parses a study detail (GET api/studies/:id) in slices: one JSON.parse of 100 MB would
// freeze the page for seconds while the person is rating. The top-level "trials" array is
// located by a small scanner and parsed a few thousand trials at a time, yielding to the
// browser between slices, so keys keep working while a 100,000-trial study arrives.
import type { StudyDetailWire, Trial } from "./types";

const SLICE_MS = 12;
const yieldNow = () => new Promise<void>((r) => setTimeout(r, 0));

export async function parseStudySliced(text: string): Promise<StudyDetailWire> {
  if (text.length < 2_000_000) return JSON.parse(text);
  const key = findTrialsArray(text);
  if (!key) return JSON.parse(text);
  // Each trial object starts with {"trial_id" (upstream's key order). That sequence cannot
  // occur inside a JSON string (its quote would be escaped), so native indexOf finds the
  // trial boundaries quickly; the trials array ends where a start is no longer preceded by
  // a comma (the next one found belongs to "best_trials") or where the last trial closes.
  const MARK = '{"trial_id"';
  const starts: number[] = [];
  let p = text.indexOf(MARK, key.open);
  if (p < 0 || prevChar(text, p) !== "[") return JSON.parse(text);
  while (p >= 0) {
    const before = prevChar(text, p);
    if (starts.length && before !== ",") break;
    starts.push(p);
    p = text.indexOf(MARK, p + MARK.length);
  }
  const lastEnd = objectEnd(text, starts[starts.length - 1]);
  const trials: Trial[] = [];
  let t0 = performance.now();
  const BATCH = 1000;
  for (let k = 0; k < starts.length; k += BATCH) {
    const from = starts[k];
    const to = k + BATCH < starts.length ? trimComma(text, starts[k + BATCH]) : lastEnd;
    for (const t of JSON.parse("[" + text.slice(from, to) + "]") as Trial[]) trials.push(t);
    if (performance.now() - t0 > SLICE_MS) {
      await yieldNow();
      t0 = performance.now();
    }
  }
  let close = lastEnd;
  while (close < text.length && text[close] !== "]") close++;
  const rest = JSON.parse(text.slice(0, key.open) + "[]" + text.slice(close + 1));
  rest.trials = trials;
  return rest;
}

function prevChar(text: string, i: number): string {
  let j = i - 1;
  while (j >= 0 && (text[j] === " " || text[j] === "\n" || text[j] === "\r" || text[j] === "\t")) j--;
  return text[j];
}

/** Index just before the comma that precedes position i. */
function trimComma(text: string, i: number): number {
  let j = i - 1;
  while (j >= 0 && text[j] !== ",") j--;
  return j;
}

/** Index just after the object that starts at i. */
function objectEnd(text: string, i: number): number {
  let depth = 0;
  let inStr = false;
  for (let k = i; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (inStr) {
      if (c === 92) k++;
      else if (c === 34) inStr = false;
    } else if (c === 34) inStr = true;
    else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) {
      depth--;
      if (depth === 0) return k + 1;
    }
  }
  return text.length;
}

/** Position of the '[' that opens the top-level "trials" value, found by scanning the
 *  top-level object only (nested objects are skipped with a depth count). */
function findTrialsArray(text: string): { open: number } | null {
  let depth = 0;
  let inStr = false;
  let strStart = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inStr) {
      if (c === 92) i++;
      else if (c === 34) {
        inStr = false;
        if (depth === 1 && text.slice(strStart, i + 1) === '"trials"') {
          let j = i + 1;
          while (j < text.length && (text[j] === " " || text[j] === ":" || text[j] === "\n" || text[j] === "\t" || text[j] === "\r")) j++;
          if (text[j] === "[") return { open: j };
        }
      }
      continue;
    }
    if (c === 34) {
      inStr = true;
      strStart = i;
    } else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) depth--;
  }
  return null;
}
