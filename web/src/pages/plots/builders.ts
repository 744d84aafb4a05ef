// Pure functions that turn study data into ECharts options, one per plot of the catalogue
// (history, Pareto front, importance, timeline, intermediate values, slice, contour, rank,
// EDF, parallel coordinates). Each point carries its trial number last, for clicks.
import { byNumber, type StudyData } from "../../lib/store";
import { fmt, isFeasible, objectiveNames } from "../../lib/derive";
import type { Direction, Distribution, ParamImportance, SearchSpaceItem, Trial, TrialState } from "../../lib/types";
import { num } from "../../lib/types";
import { seriesColor } from "../../lib/palette";

export const STATE_COLORS: Record<TrialState, string> = {
  Complete: "#3b82f6",
  Fail: "#ef4444",
  Pruned: "#f59e0b",
  Running: "#10b981",
  Waiting: "#9ca3af",
};
const BLUES = ["#c6dbef", "#6baed6", "#2171b5", "#08306b"];
const REDS = ["#fcbba1", "#fb6a4a", "#cb181d", "#67000d"];
const PORTLAND = ["#0c3383", "#0a88ba", "#f2d338", "#f28f38", "#d91e1e"];

function grey(): string {
  return document.documentElement.dataset.theme === "dark" ? "#666666" : "#cccccc";
}

export type Target = { kind: "objective"; index: number } | { kind: "attr"; key: string };

export function targetValue(t: Trial, target: Target): number | undefined {
  if (target.kind === "objective") {
    if (!t.values) return undefined;
    const v = num(t.values[target.index]);
    return Number.isFinite(v) ? v : undefined;
  }
  const a = t.user_attrs.find((x) => x.key === target.key);
  if (!a) return undefined;
  const v = Number(a.value);
  return Number.isFinite(v) ? v : undefined;
}

function tooltip(s: StudyData) {
  return {
    trigger: "item",
    confine: true,
    formatter: (p: any) => {
      const d = Array.isArray(p.data) ? p.data : p.data?.value;
      const n = Array.isArray(d) ? d[d.length - 1] : undefined;
      const t = typeof n === "number" ? byNumber(s, n) : undefined;
      if (!t) return p.seriesName ?? "";
      const names = objectiveNames(s.info);
      const vals = t.values ? t.values.map((v, i) => `${escape(names[i])}: ${fmt(num(v))}`).join("<br>") : t.state;
      const params = t.params
        .slice(0, 12)
        .map((x) => `${escape(x.name)}: ${escape(x.param_external_value)}`)
        .join("<br>");
      return `<b>Trial ${t.number}</b> (${t.state})<br>${vals}${params ? "<br>" + params : ""}`;
    },
  };
}

function escape(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

function scatterBase(name: string, data: unknown[], size: number, extra: object = {}) {
  return { type: "scatter", name, data, symbolSize: size, large: data.length > 5000, largeThreshold: 5000, progressive: 20000, ...extra };
}

// ---- history --------------------------------------------------------------------------

export interface HistoryOpts {
  target: Target;
  x: "number" | "datetime_start" | "datetime_complete";
  logY: boolean;
  includePruned: boolean;
  markerSize: number;
  selection: Set<number> | null;
}

function xOf(t: Trial, x: HistoryOpts["x"]): number | undefined {
  if (x === "number") return t.number;
  const d = x === "datetime_start" ? t.datetime_start : t.datetime_complete;
  return d ? Date.parse(d) : undefined;
}

/** Points [x, y, trial number] gathered flat: ECharts takes them as one Float64Array
 *  (three dimensions a point), which at 100,000 trials it reads several times faster than
 *  as 100,000 small arrays, and which the page allocates as one object instead of those. */
class Points {
  private a = new Float64Array(3 * 1024);
  n = 0;
  push(x: number, y: number, number: number): void {
    if (3 * this.n === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    const k = 3 * this.n++;
    this.a[k] = x;
    this.a[k + 1] = y;
    this.a[k + 2] = number;
  }
  data(): Float64Array {
    return this.a.subarray(0, 3 * this.n);
  }
}

/** A scatter series of Points; a click or tooltip still gets [x, y, number] for a point. */
function pointSeries(name: string, pts: Points, size: number, extra: object = {}) {
  return { ...scatterBase(name, [], size, extra), data: pts.data(), dimensions: ["x", "y", "number"], encode: { x: 0, y: 1 }, large: pts.n > LARGE_ABOVE, largeThreshold: LARGE_ABOVE };
}
// Drawn as one path above this many points: each point its own element cost ECharts 0.8 s
// for 1,000 points on a busy 2-core machine (hover then shows the tooltip, not a halo).
const LARGE_ABOVE = 500;

/** History of one or several studies (Compare page) with the best-value step line. */
export function history(studies: { s: StudyData; name: string }[], o: HistoryOpts) {
  const series: any[] = [];
  const multi = studies.length > 1;
  for (const [k, { s, name }] of studies.entries()) {
    // Palette colours: one per study; the best-value line of a single study takes the second.
    const color = seriesColor(k);
    const dir: Direction | undefined = o.target.kind === "objective" ? s.info?.directions[o.target.index] : undefined;
    const main = new Points();
    const infeasible = new Points();
    const hollow = new Points();
    const bestLine: [number, number][] = [];
    let best: number | undefined;
    let lastX: number | undefined;
    // By trial number the best-so-far line only needs the trials that improve it (a step
    // line holds its value until the next point): exact, and a few dozen points, not 100,000.
    const changesOnly = o.x === "number";
    for (const t of s.trials) {
      if (!(t.state === "Complete" || (o.includePruned && t.state === "Pruned"))) continue;
      const y = targetValue(t, o.target);
      const x = xOf(t, o.x);
      if (y === undefined || x === undefined) continue;
      if (o.logY && y <= 0) continue;
      const feasible = isFeasible(t);
      if (!feasible) infeasible.push(x, y, t.number);
      else if (o.selection && !o.selection.has(t.number)) hollow.push(x, y, t.number);
      else main.push(x, y, t.number);
      if (dir && t.state === "Complete" && feasible) {
        const improves = best === undefined || (dir === "minimize" ? y < best : y > best);
        if (improves) best = y;
        if (improves || !changesOnly) bestLine.push([x, best!]);
      }
      lastX = lastX === undefined ? x : Math.max(lastX, x);
    }
    if (o.x !== "number") bestLine.sort((a, b) => a[0] - b[0]);
    if (bestLine.length && lastX !== undefined) bestLine.push([lastX, bestLine[bestLine.length - 1][1]]);
    series.push(pointSeries(multi ? name : "Objective value", main, o.markerSize * 2, { itemStyle: { color } }));
    if (hollow.n)
      series.push(pointSeries(multi ? `${name} (not selected)` : "Not selected", hollow, o.markerSize * 2, { itemStyle: { color: "transparent", borderColor: color, borderWidth: 1 } }));
    if (infeasible.n) series.push(pointSeries(multi ? `${name} (infeasible)` : "Infeasible", infeasible, o.markerSize * 2, { itemStyle: { color: grey() } }));
    if (dir && bestLine.length)
      series.push({ type: "line", name: multi ? `${name} best` : "Best value", data: bestLine, step: "end", showSymbol: false, lineStyle: { width: 2, color: multi ? color : seriesColor(1), type: multi ? "dashed" : "solid" }, itemStyle: { color: multi ? color : seriesColor(1) }, silent: true });
  }
  return {
    tooltip: tooltipFor(studies[0]?.s),
    legend: { top: 0, type: "scroll" },
    grid: { left: 64, right: 24, top: 36, bottom: 48 },
    xAxis: { type: o.x === "number" ? "value" : "time", name: o.x === "number" ? "Trial" : o.x === "datetime_start" ? "Start" : "Complete", nameLocation: "middle", nameGap: 28, scale: true },
    yAxis: { type: o.logY ? "log" : "value", scale: true, name: o.target.kind === "objective" ? "" : o.target.key },
    dataZoom: [{ type: "inside", xAxisIndex: 0 }, { type: "inside", yAxisIndex: 0 }],
    series,
  };
}

function tooltipFor(s: StudyData | undefined) {
  return s ? tooltip(s) : { trigger: "item" };
}

// ---- Pareto front ---------------------------------------------------------------------

export function pareto(s: StudyData, xi: number, yi: number, selection: Set<number> | null) {
  const best = new Set((s.info?.best_trials ?? []).map((t) => t.number));
  const front: unknown[] = [];
  const dominated: unknown[] = [];
  const infeasible: unknown[] = [];
  for (const t of s.trials) {
    if (t.state !== "Complete" || !t.values) continue;
    const x = num(t.values[xi]);
    const y = num(t.values[yi]);
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    const pt = [x, y, t.number];
    if (!isFeasible(t)) infeasible.push(pt);
    else if (best.has(t.number)) front.push(pt);
    else dominated.push(pt);
  }
  const names = objectiveNames(s.info);
  const n = s.trials.length || 1;
  const hollow = (arr: unknown[]) => (selection ? { itemStyle: { opacity: 1 }, data: arr } : {});
  return {
    tooltip: tooltip(s),
    legend: { top: 0, type: "scroll" },
    grid: { left: 64, right: 90, top: 36, bottom: 48 },
    xAxis: { type: "value", scale: true, name: names[xi], nameLocation: "middle", nameGap: 28 },
    yAxis: { type: "value", scale: true, name: names[yi] },
    visualMap: [
      { type: "continuous", seriesIndex: 0, dimension: 2, min: 0, max: n - 1, inRange: { color: BLUES }, right: 0, top: 40, itemHeight: 100, text: ["Trial", ""], calculable: false },
    ],
    series: [
      scatterBase("Trial", dominated, 8, hollow(dominated)),
      scatterBase("Best trial (Pareto front)", front, 11, { itemStyle: { color: REDS[2], borderColor: REDS[3] } }),
      scatterBase("Infeasible", infeasible, 7, { itemStyle: { color: grey() } }),
    ],
  };
}

// ---- importance -----------------------------------------------------------------------

export function importance(s: StudyData, imps: ParamImportance[][]) {
  const names = objectiveNames(s.info);
  const params = Array.from(new Set(imps.flatMap((l) => l.map((p) => p.name))));
  const total = (p: string) => imps.reduce((a, l) => a + (l.find((x) => x.name === p)?.importance ?? 0), 0);
  params.sort((a, b) => total(a) - total(b));
  return {
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { top: 0, type: "scroll", show: imps.length > 1 },
    grid: { left: 110, right: 40, top: 30, bottom: 30 },
    xAxis: { type: "value", name: "Importance", max: 1 },
    yAxis: { type: "category", data: params, axisLabel: { width: 100, overflow: "truncate" } },
    series: imps.map((l, i) => ({
      type: "bar",
      name: names[i],
      data: params.map((p) => l.find((x) => x.name === p)?.importance ?? 0),
      label: { show: true, position: "right", formatter: (p: any) => (p.value as number).toFixed(2) },
    })),
  };
}

// ---- timeline -------------------------------------------------------------------------

export function timeline(s: StudyData) {
  const MAX = 1000;
  const trials = s.trials.slice(-MAX).filter((t) => t.datetime_start);
  const now = Date.now();
  const data = trials.map((t) => {
    const start = Date.parse(t.datetime_start!);
    const end = t.datetime_complete ? Date.parse(t.datetime_complete) : now;
    const color = t.state === "Complete" && !isFeasible(t) ? grey() : STATE_COLORS[t.state];
    return { value: [t.number, start, end, t.number], itemStyle: { color } };
  });
  const first = trials.length > 100 ? trials[trials.length - 100].number : undefined;
  return {
    tooltip: tooltip(s),
    grid: { left: 60, right: 24, top: 20, bottom: 48 },
    xAxis: { type: "time", scale: true, axisLabel: { hideOverlap: true } },
    yAxis: { type: "value", name: "Trial", inverse: true, min: first, max: trials.length ? trials[trials.length - 1].number + 1 : 1 },
    dataZoom: [{ type: "inside", yAxisIndex: 0, filterMode: "none" }, { type: "inside", xAxisIndex: 0, filterMode: "none" }],
    series: [
      {
        type: "custom",
        name: "Trials",
        encode: { x: [1, 2], y: 0 },
        data,
        renderItem: (_: any, api: any) => {
          const a = api.coord([api.value(1), api.value(0)]);
          const b = api.coord([api.value(2), api.value(0) + 1]);
          return { type: "rect", shape: { x: a[0], y: a[1] + 1, width: Math.max(2, b[0] - a[0]), height: Math.max(1, b[1] - a[1] - 2) }, style: api.style() };
        },
      },
    ],
  };
}

// ---- intermediate values --------------------------------------------------------------

export function intermediate(s: StudyData, logY: boolean, includePruned: boolean, limit: number) {
  const trials = s.trials.filter((t) => t.intermediate_values.length > 0 && (t.state !== "Pruned" || includePruned));
  const shown = trials.slice(-limit);
  return {
    tooltip: { trigger: "item" },
    grid: { left: 64, right: 24, top: 20, bottom: 48 },
    xAxis: { type: "value", name: "Step", nameLocation: "middle", nameGap: 28, scale: true },
    yAxis: { type: logY ? "log" : "value", scale: true },
    dataZoom: [{ type: "inside", xAxisIndex: 0 }],
    series: shown.map((t) => ({
      type: "line",
      name: `trial #${t.number}${t.state === "Running" ? " (running)" : !isFeasible(t) ? " (infeasible)" : ""}`,
      data: t.intermediate_values.map((iv) => [iv.step, num(iv.value), t.number]).filter((p) => Number.isFinite(p[1]) && (!logY || p[1] > 0)),
      showSymbol: t.intermediate_values.length <= 10,
      symbolSize: 4,
      lineStyle: { width: 1, color: t.state === "Pruned" ? STATE_COLORS.Pruned : undefined },
      emphasis: { focus: "series" },
      sampling: "lttb",
    })),
    _count: { shown: shown.length, total: trials.length },
  };
}

// ---- parameter helpers -----------------------------------------------------------------

interface ParamAxis {
  kind: "value" | "log" | "category";
  categories?: string[];
  get: (t: Trial) => number | undefined;
}

function paramAxis(item: SearchSpaceItem): ParamAxis {
  const d: Distribution = item.distribution;
  if (d.type === "CategoricalDistribution") {
    const cats = d.choices.map((c) => c.value);
    return {
      kind: "category",
      categories: cats,
      get: (t) => {
        const p = t.params.find((x) => x.name === item.name);
        if (!p) return undefined;
        const i = cats.indexOf(p.param_external_value);
        return i >= 0 ? i : num(p.param_internal_value);
      },
    };
  }
  return {
    kind: d.log ? "log" : "value",
    get: (t) => {
      const p = t.params.find((x) => x.name === item.name);
      return p ? num(p.param_internal_value) : undefined;
    },
  };
}

function axisFor(a: ParamAxis, name: string) {
  if (a.kind === "category") return { type: "category", data: a.categories, name, nameLocation: "middle", nameGap: 28 };
  return { type: a.kind === "log" ? "log" : "value", scale: true, name, nameLocation: "middle", nameGap: 28 };
}

// ---- slice ----------------------------------------------------------------------------

export function slice(s: StudyData, objective: number, param: SearchSpaceItem, logY: boolean, filterPruned: boolean) {
  const ax = paramAxis(param);
  const data: unknown[] = [];
  const infeasible: unknown[] = [];
  for (const t of s.trials) {
    if (!(t.state === "Complete" || (!filterPruned && t.state === "Pruned")) || !t.values) continue;
    const y = num(t.values[objective]);
    const x = ax.get(t);
    if (x === undefined || !Number.isFinite(y) || (logY && y <= 0)) continue;
    (isFeasible(t) ? data : infeasible).push([x, y, t.number]);
  }
  return {
    tooltip: tooltip(s),
    grid: { left: 64, right: 90, top: 20, bottom: 48 },
    xAxis: axisFor(ax, param.name),
    yAxis: { type: logY ? "log" : "value", scale: true, name: objectiveNames(s.info)[objective] },
    visualMap: [{ type: "continuous", seriesIndex: 0, dimension: 2, min: 0, max: Math.max(1, s.trials.length - 1), inRange: { color: [...BLUES].reverse() }, right: 0, top: 20, itemHeight: 100, text: ["Trial", ""] }],
    series: [scatterBase("Trials", data, 8), scatterBase("Infeasible", infeasible, 7, { itemStyle: { color: grey() } })],
  };
}

// ---- rank -----------------------------------------------------------------------------

export function rank(s: StudyData, objective: number, px: SearchSpaceItem, py: SearchSpaceItem) {
  const ax = paramAxis(px);
  const ay = paramAxis(py);
  const pts: { x: number; y: number; v: number; n: number; feasible: boolean }[] = [];
  for (const t of s.trials) {
    if (t.state !== "Complete" || !t.values) continue;
    const v = num(t.values[objective]);
    const x = ax.get(t);
    const y = ay.get(t);
    if (x === undefined || y === undefined || !Number.isFinite(v)) continue;
    pts.push({ x, y, v, n: t.number, feasible: isFeasible(t) });
  }
  // Average rank for ties, normalised to 0..1.
  const order = pts.map((_, i) => i).sort((a, b) => pts[a].v - pts[b].v);
  const r = new Array<number>(pts.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && pts[order[j + 1]].v === pts[order[i]].v) j++;
    for (let k = i; k <= j; k++) r[order[k]] = (i + j) / 2;
    i = j + 1;
  }
  const den = Math.max(1, pts.length - 1);
  const data = pts.filter((p) => p.feasible).map((p) => [p.x, p.y, r[pts.indexOf(p)] / den, p.n]);
  const infeasible = pts.filter((p) => !p.feasible).map((p) => [p.x, p.y, 0, p.n]);
  return {
    tooltip: tooltip(s),
    grid: { left: 64, right: 90, top: 20, bottom: 48 },
    xAxis: axisFor(ax, px.name),
    yAxis: axisFor(ay, py.name),
    visualMap: [{ type: "continuous", seriesIndex: 0, dimension: 2, min: 0, max: 1, inRange: { color: PORTLAND }, right: 0, top: 20, itemHeight: 100, text: ["Rank", ""] }],
    series: [scatterBase("Trials", data, 9), scatterBase("Infeasible", infeasible, 8, { itemStyle: { color: grey() } })],
  };
}

// ---- contour --------------------------------------------------------------------------

/** Contour of the objective over two params: points binned into a grid, empty cells
 *  filled by neighbour averaging, iso-lines from d3-contour, plus the trial markers. */
export async function contour(s: StudyData, objective: number, px: SearchSpaceItem, py: SearchSpaceItem) {
  const { contours } = await import("d3-contour");
  const ax = paramAxis(px);
  const ay = paramAxis(py);
  const pts: [number, number, number, number][] = [];
  for (const t of s.trials) {
    if (t.state !== "Complete" || !t.values || !isFeasible(t)) continue;
    const v = num(t.values[objective]);
    let x = ax.get(t);
    let y = ay.get(t);
    if (x === undefined || y === undefined || !Number.isFinite(v)) continue;
    if (ax.kind === "log") x = Math.log10(x);
    if (ay.kind === "log") y = Math.log10(y);
    pts.push([x, y, v, t.number]);
  }
  if (pts.length < 3) return null;
  const N = 48;
  const [x0, x1] = extent(pts.map((p) => p[0]));
  const [y0, y1] = extent(pts.map((p) => p[1]));
  const sum = new Float64Array(N * N);
  const cnt = new Float64Array(N * N);
  const cx = (x: number) => Math.min(N - 1, Math.max(0, Math.floor(((x - x0) / (x1 - x0 || 1)) * N)));
  const cy = (y: number) => Math.min(N - 1, Math.max(0, Math.floor(((y - y0) / (y1 - y0 || 1)) * N)));
  for (const p of pts) {
    const k = cy(p[1]) * N + cx(p[0]);
    sum[k] += p[2];
    cnt[k]++;
  }
  const grid = new Float64Array(N * N);
  const known = new Uint8Array(N * N);
  let mean = 0;
  for (let k = 0; k < N * N; k++)
    if (cnt[k]) {
      grid[k] = sum[k] / cnt[k];
      known[k] = 1;
      mean += grid[k];
    }
  mean /= pts.length ? Math.max(1, known.reduce((a, b) => a + b, 0)) : 1;
  for (let k = 0; k < N * N; k++) if (!known[k]) grid[k] = mean;
  for (let it = 0; it < 200; it++)
    for (let j = 0; j < N; j++)
      for (let i = 0; i < N; i++) {
        const k = j * N + i;
        if (known[k]) continue;
        let a = 0, c = 0;
        if (i > 0) (a += grid[k - 1]), c++;
        if (i < N - 1) (a += grid[k + 1]), c++;
        if (j > 0) (a += grid[k - N]), c++;
        if (j < N - 1) (a += grid[k + N]), c++;
        grid[k] = a / c;
      }
  const [v0, v1] = extent(Array.from(grid));
  const levels = 12;
  const th = Array.from({ length: levels }, (_, i) => v0 + ((v1 - v0) * (i + 0.5)) / levels);
  const polys = contours().size([N, N]).thresholds(th)(Array.from(grid));
  const toX = (gx: number) => x0 + (gx / N) * (x1 - x0);
  const toY = (gy: number) => y0 + (gy / N) * (y1 - y0);
  const color = (i: number) => lerpColor(["#f7fbff", "#6baed6", "#08306b"], i / (levels - 1));
  const polyData: any[] = [];
  polys.forEach((mp, li) => {
    for (const poly of mp.coordinates) for (const ring of poly) polyData.push({ value: [li], ring: ring.map(([gx, gy]) => [toX(gx), toY(gy)]), color: color(li) });
  });
  const axisName = (a: ParamAxis, name: string) => (a.kind === "log" ? `log10(${name})` : name);
  const catFmt = (a: ParamAxis) => (a.kind === "category" ? { formatter: (v: number) => a.categories![Math.round(v)] ?? "" } : a.kind === "log" ? { formatter: (v: number) => `1e${fmt(v, 2)}` } : { formatter: (v: number) => fmt(v, 3) });
  return {
    tooltip: tooltip(s),
    grid: { left: 64, right: 24, top: 20, bottom: 48 },
    xAxis: { type: "value", min: x0, max: x1, name: axisName(ax, px.name), nameLocation: "middle", nameGap: 28, axisLabel: catFmt(ax) },
    yAxis: { type: "value", min: y0, max: y1, name: axisName(ay, py.name), axisLabel: catFmt(ay) },
    series: [
      {
        type: "custom",
        name: "Contour",
        silent: true,
        data: polyData.map((d, i) => ({ value: [i] })),
        renderItem: (params: any, api: any) => {
          const d = polyData[params.dataIndex];
          return { type: "polygon", shape: { points: d.ring.map((p: number[]) => api.coord(p)) }, style: { fill: d.color, stroke: "rgba(0,0,0,0.15)", lineWidth: 0.5 } };
        },
        clip: true,
        z: 1,
      },
      { ...scatterBase("Trials", pts.map((p) => [p[0], p[1], p[3]]), 6), itemStyle: { color: "#111", borderColor: "#fff", borderWidth: 1 }, z: 2 },
    ],
    _levels: { min: v0, max: v1 },
  };
}

function extent(a: number[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of a) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

function lerpColor(stops: string[], t: number): string {
  const seg = Math.min(stops.length - 2, Math.floor(t * (stops.length - 1)));
  const u = t * (stops.length - 1) - seg;
  const a = hex(stops[seg]), b = hex(stops[seg + 1]);
  return `rgb(${a.map((x, i) => Math.round(x + (b[i] - x) * u)).join(",")})`;
}
function hex(h: string): number[] {
  return [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
}

// ---- EDF ------------------------------------------------------------------------------

export function edf(studies: { s: StudyData; name: string }[], objective: number) {
  const all = studies.map(({ s, name }) => {
    const v = s.trials.filter((t) => t.state === "Complete" && t.values).map((t) => num(t.values![objective])).filter(Number.isFinite).sort((a, b) => a - b);
    return { name, v };
  });
  const flat = all.flatMap((x) => x.v);
  if (!flat.length) return null;
  const [lo, hi] = extent(flat);
  const xs = Array.from({ length: 100 }, (_, i) => lo + ((hi - lo) * i) / 99);
  return {
    tooltip: { trigger: "axis" },
    legend: { top: 0, type: "scroll", show: studies.length > 1 },
    grid: { left: 64, right: 24, top: 30, bottom: 48 },
    xAxis: { type: "value", scale: true, name: objectiveNames(studies[0].s.info)[objective], nameLocation: "middle", nameGap: 28 },
    yAxis: { type: "value", min: 0, max: 1, name: "Cumulative probability" },
    series: all.map(({ name, v }) => {
      let j = 0;
      return {
        type: "line",
        name,
        showSymbol: false,
        step: "end",
        data: xs.map((x) => {
          while (j < v.length && v[j] <= x) j++;
          return [x, v.length ? j / v.length : 0];
        }),
      };
    }),
  };
}

// ---- parallel coordinates ---------------------------------------------------------------

export interface PcAxis {
  id: string;
  label: string;
  kind: "objective" | "param" | "attr";
}

export function parallelAxes(s: StudyData): { axes: PcAxis[]; defaults: Set<string> } {
  const info = s.info!;
  const names = objectiveNames(info);
  const axes: PcAxis[] = names.map((n, i) => ({ id: `v${i}`, label: n, kind: "objective" }));
  const inter = new Set(info.intersection_search_space.map((p) => p.name));
  const defaults = new Set(axes.map((a) => a.id));
  for (const p of info.union_search_space) {
    axes.push({ id: `p:${p.name}`, label: p.name, kind: "param" });
    if (inter.has(p.name)) defaults.add(`p:${p.name}`);
  }
  for (const a of info.union_user_attrs) if (a.sortable) axes.push({ id: `u:${a.key}`, label: a.key, kind: "attr" });
  return { axes, defaults };
}

function wrapLabel(s: string): string {
  const t = s.length > 40 ? s.slice(0, 39) + "…" : s;
  return t.replace(/(.{20})/g, "$1\n").trim();
}

/** Parallel coordinates; data index i is rows[i] (the trial numbers are returned). */
export function parallel(s: StudyData, chosen: PcAxis[]) {
  const info = s.info!;
  const dims: { label: string; axis: any; get: (t: Trial) => number | undefined }[] = [];
  for (const a of chosen) {
    if (a.kind === "objective") {
      const i = Number(a.id.slice(1));
      dims.push({ label: a.label, axis: { type: "value", scale: true }, get: (t) => (t.values ? num(t.values[i]) : undefined) });
    } else if (a.kind === "param") {
      const item = info.union_search_space.find((p) => p.name === a.id.slice(2))!;
      const ax = paramAxis(item);
      if (ax.kind === "category") dims.push({ label: a.label, axis: { type: "category", data: ax.categories }, get: ax.get });
      else if (ax.kind === "log")
        dims.push({ label: a.label, axis: { type: "value", scale: true, axisLabel: { formatter: (v: number) => `1e${fmt(v, 2)}` } }, get: (t) => { const v = ax.get(t); return v === undefined || v <= 0 ? undefined : Math.log10(v); } });
      else dims.push({ label: a.label, axis: { type: "value", scale: true }, get: ax.get });
    } else {
      const key = a.id.slice(2);
      dims.push({ label: a.label, axis: { type: "value", scale: true }, get: (t) => { const v = t.user_attrs.find((x) => x.key === key)?.value; return v === undefined ? undefined : Number(v); } });
    }
  }
  const rows: number[] = [];
  const data: number[][] = [];
  for (const t of s.trials) {
    if (t.state !== "Complete" || !t.values) continue;
    const row: number[] = [];
    let ok = true;
    for (const d of dims) {
      const v = d.get(t);
      if (v === undefined || !Number.isFinite(v)) {
        ok = false;
        break;
      }
      row.push(v);
    }
    if (!ok) continue;
    row.push(t.number);
    data.push(row);
    rows.push(t.number);
  }
  const first = chosen[0];
  const maximize = first?.kind === "objective" && info.directions[Number(first.id.slice(1))] === "maximize";
  let lo = Infinity, hi = -Infinity;
  for (const r of data) {
    if (r[0] < lo) lo = r[0];
    if (r[0] > hi) hi = r[0];
  }
  const many = data.length > 2000;
  return {
    rows,
    option: {
      tooltip: { trigger: "item", confine: true, formatter: (p: any) => `Trial ${p.data[p.data.length - 1]}` },
      parallel: { left: 60, right: 80, top: 50, bottom: 30, parallelAxisDefault: { nameLocation: "start", nameTextStyle: { fontSize: 11 }, nameGap: 12, areaSelectStyle: { width: 16 } } },
      parallelAxis: dims.map((d, i) => ({ dim: i, name: wrapLabel(d.label), ...d.axis })),
      visualMap: data.length
        ? { type: "continuous", show: true, dimension: 0, min: lo, max: hi === lo ? lo + 1 : hi, inRange: { color: maximize ? BLUES : [...BLUES].reverse() }, right: 0, top: 50, itemHeight: 120, calculable: false }
        : undefined,
      series: [
        {
          type: "parallel",
          name: "Trials",
          data,
          smooth: false,
          progressive: many ? 2000 : 0,
          lineStyle: { width: many ? 0.5 : 1, opacity: many ? 0.25 : 0.6 },
          inactiveOpacity: 0.03,
          activeOpacity: 1,
          emphasis: { disabled: true },
        },
      ],
    },
  };
}
