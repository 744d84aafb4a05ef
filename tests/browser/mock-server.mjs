// mock-server.mjs -- an in-memory stand-in for `loupe dashboard` used to develop the web
// app and to run the browser tests when no loupe binary is available. It answers the
// optuna-dashboard 0.20 routes with the shapes of the reference (§4, §5) plus loupe's
// additions (docs/api.md: SSE /api/events, extra summary fields, raw artifact upload,
// --base-path), refuses cross-site writes, and has /__mock/* routes for tests to create
// RUNNING trials the way a user's script would.
//
//   node tests/browser/mock-server.mjs --port 8765 [--base-path /x] [--dist web/dist] [--seed N]
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import crypto from "node:crypto";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

// ---- PNG writer (solid colour), also used by the tests --------------------------------
const CRC = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
export function solidPng(r, g, b, w = 320, h = 240) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const row = Buffer.alloc(1 + w * 3);
  for (let x = 0; x < w; x++) row.set([r, g, b], 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", zlib.deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

// ---- model --------------------------------------------------------------------------------
const pyRepr = (v) => (Number.isInteger(v) ? `${v}.0` : String(v));
const nowIso = () => new Date().toISOString().replace("Z", "");
const wire = (v) => (Number.isFinite(v) ? v : Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf");
const MIME = { ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp", ".svg": "image/svg+xml", ".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".mp4": "video/mp4", ".webm": "video/webm", ".csv": "text/csv", ".txt": "text/plain", ".json": "application/json", ".jsonl": "application/octet-stream", ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };
const guessMime = (name) => MIME[path.extname(name).toLowerCase()] ?? "application/octet-stream";

export class Model {
  constructor() {
    this.studies = new Map();
    this.nextStudy = 1;
    this.nextTrial = 1;
    this.blobs = new Map();
    this.onTrials = () => {};
    this.onStudy = () => {};
    this.onStudies = () => {};
    this.onDeleted = () => {};
  }
  createStudy(name, directions) {
    for (const s of this.studies.values()) if (s.name === name) throw new HttpError(400, "Study name already exists.");
    const s = { id: this.nextStudy++, name, directions, user_attrs: {}, trials: [], note: { version: 0, body: "" }, artifacts: [], form_widgets: null, metric_names: null, importanceCache: null };
    this.studies.set(s.id, s);
    this.onStudies();
    return s;
  }
  study(id) {
    const s = this.studies.get(Number(id));
    if (!s) throw new HttpError(404, `study_id=${id} is not found`);
    return s;
  }
  findTrial(trialId) {
    for (const s of this.studies.values()) {
      const t = s.trials.find((x) => x.trial_id === Number(trialId));
      if (t) return [s, t];
    }
    throw new HttpError(404, `trial_id=${trialId} is not found`);
  }
  addTrial(s, { state = "Running", params = [], values = null, user_attrs = {}, intermediate = [], note = "", constraints = [], start, complete } = {}) {
    const t = { trial_id: this.nextTrial++, number: s.trials.length, state, params, values, user_attrs, intermediate, artifacts: [], constraints, note: { version: note ? 1 : 0, body: note }, datetime_start: start ?? nowIso(), datetime_complete: complete ?? (state === "Running" || state === "Waiting" ? null : nowIso()) };
    s.trials.push(t);
    return t;
  }
  // JSON shapes ---------------------------------------------------------------------
  trialJson(s, t) {
    const o = {
      trial_id: t.trial_id, study_id: s.id, number: t.number, state: t.state,
      params: t.params.map((p) => ({ name: p.name, param_internal_value: p.internal, param_external_value: p.external, param_external_pytyp: p.pytyp, distribution: p.distribution })),
      fixed_params: [],
      user_attrs: Object.entries(t.user_attrs).map(([key, v]) => ({ key, value: typeof v === "string" ? v : typeof v === "number" ? pyRepr(v) : JSON.stringify(v) })),
      note: t.note,
      artifacts: t.artifacts,
      constraints: t.constraints,
      intermediate_values: t.intermediate.map(([step, v]) => ({ step, value: wire(v) })),
    };
    if (t.values) o.values = t.values.map(wire);
    if (t.datetime_start) o.datetime_start = t.datetime_start;
    if (t.datetime_complete) o.datetime_complete = t.datetime_complete;
    return o;
  }
  /** GET /api/studies/:id/compact (loupe's compact trial feed, docs/api.md): a short row
   *  per trial, or the full trial object where a row would not decode to exactly it. */
  compactJson(s) {
    const kinds = [], index = new Map();
    const iso = (us) => {
      const secs = Math.floor(us / 1e6), frac = us - secs * 1e6;
      const t = new Date(secs * 1000).toISOString().slice(0, 19);
      return frac ? `${t}.${String(frac).padStart(6, "0")}` : t;
    };
    const us = (text) => {
      if (text === undefined) return null;
      const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{6}))?$/.exec(text);
      if (!m) return undefined;
      const v = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) * 1000 + Number(m[7] ?? 0);
      return iso(v) === text ? v : undefined;
    };
    const rows = s.trials.map((t, number) => {
      const o = this.trialJson(s, t);
      if (o.number !== number || o.fixed_params.length || o.note.version !== 0 || o.note.body !== "" || o.artifacts.length || o.constraints.length) return o;
      const start = us(o.datetime_start), complete = us(o.datetime_complete);
      if (start === undefined || complete === undefined) return o;
      const p = [];
      for (const q of o.params) {
        const d = q.distribution;
        let v;
        if (d.type === "FloatDistribution" && Number(q.param_external_value) === q.param_internal_value && q.param_external_pytyp === "<class 'float'>") v = q.param_external_value;
        else if (d.type === "IntDistribution" && String(q.param_internal_value) === q.param_external_value && q.param_external_pytyp === "<class 'int'>") v = q.param_internal_value;
        else if (d.type === "CategoricalDistribution" && d.choices[q.param_internal_value]?.value === q.param_external_value && d.choices[q.param_internal_value]?.pytype === q.param_external_pytyp) v = q.param_internal_value;
        else return o;
        const key = q.name + "\0" + JSON.stringify(d);
        let k = index.get(key);
        if (k === undefined) {
          k = kinds.length;
          index.set(key, k);
          kinds.push([q.name, d]);
        }
        p.push(k, v);
      }
      return [o.trial_id, o.state, o.values ?? null, start, complete, p, o.user_attrs.flatMap((a) => [a.key, a.value]), o.intermediate_values.flatMap((x) => [x.step, x.value])];
    });
    return { ...this.infoJson(s), trials: [], compact_trials: { version: 1, study_id: s.id, rows, params: kinds } };
  }
  bestTrials(s) {
    const done = s.trials.filter((t) => t.state === "Complete" && t.values);
    if (!done.length) return [];
    if (s.directions.length === 1) {
      const sign = s.directions[0] === "minimize" ? 1 : -1;
      let best = done[0];
      for (const t of done) if (sign * t.values[0] < sign * best.values[0]) best = t;
      return [best];
    }
    const sg = s.directions.map((d) => (d === "minimize" ? 1 : -1));
    const dom = (a, b) => sg.every((g, i) => g * a.values[i] <= g * b.values[i]) && sg.some((g, i) => g * a.values[i] < g * b.values[i]);
    const front = [];
    for (const t of done) {
      if (front.some((f) => dom(f, t))) continue;
      for (let i = front.length - 1; i >= 0; i--) if (dom(t, front[i])) front.splice(i, 1);
      front.push(t);
    }
    return front.sort((a, b) => a.number - b.number);
  }
  spaces(s) {
    const union = new Map();
    let inter = null;
    const attrs = new Map();
    let hasIv = false;
    for (const t of s.trials) {
      if (t.state === "Fail") continue;
      if (t.intermediate.length) hasIv = true;
      const names = new Set();
      for (const p of t.params) {
        names.add(p.name);
        if (!union.has(p.name)) union.set(p.name, p.distribution);
      }
      inter = inter === null ? names : new Set([...inter].filter((n) => names.has(n)));
      for (const [k, v] of Object.entries(t.user_attrs)) attrs.set(k, (attrs.get(k) ?? true) && typeof v === "number");
    }
    const list = (names) => [...names].sort().map((name) => ({ name, distribution: union.get(name) }));
    return { union: list(union.keys()), inter: list(inter ?? []), attrs: [...attrs].map(([key, sortable]) => ({ key, sortable })), hasIv };
  }
  infoJson(s) {
    const sp = this.spaces(s);
    const o = {
      name: s.name, directions: s.directions,
      user_attrs: Object.entries(s.user_attrs).map(([key, v]) => ({ key, value: typeof v === "string" ? v : String(v) })),
      artifacts: s.artifacts,
      best_trials: this.bestTrials(s).map((t) => this.trialJson(s, t)),
      intersection_search_space: sp.inter, union_search_space: sp.union, union_user_attrs: sp.attrs,
      has_intermediate_values: sp.hasIv, note: s.note, is_preferential: false,
    };
    if (s.metric_names) o.objective_names = s.metric_names;
    if (s.form_widgets) o.form_widgets = s.form_widgets;
    o.plotly_graph_objects = s.plotly_graph_objects ?? [];
    return o;
  }
  detailJson(s) {
    return { ...this.infoJson(s), trials: s.trials.map((t) => this.trialJson(s, t)) };
  }
  summaryJson(s) {
    const c = { running: 0, complete: 0, pruned: 0, fail: 0, waiting: 0 };
    let first = null, last = null;
    for (const t of s.trials) {
      c[t.state.toLowerCase()]++;
      if (t.datetime_start && (!first || t.datetime_start < first)) first = t.datetime_start;
      for (const d of [t.datetime_start, t.datetime_complete]) if (d && (!last || d > last)) last = d;
    }
    const best = s.directions.length === 1 ? this.bestTrials(s) : [];
    return {
      study_id: s.id, study_name: s.name, directions: s.directions,
      user_attrs: Object.entries(s.user_attrs).map(([key, v]) => ({ key, value: String(v) })), is_preferential: false,
      trial_counts: c, best_values: best.length ? best[0].values.map(wire) : null,
      datetime_start: first, datetime_last_activity: last, metric_names: s.metric_names,
    };
  }
}

class HttpError extends Error {
  constructor(status, reason) {
    super(reason);
    this.status = status;
  }
}

// ---- server ---------------------------------------------------------------------------------
export function startMock({ port = 0, basePath = "", dist = path.resolve(here, "../../web/dist"), model = new Model(), artifacts = true, quiet = true } = {}) {
  basePath = basePath.replace(/\/+$/, "");
  const clients = new Set();
  let studiesTimer = null;
  const send = (c, event, data) => c.res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const summaries = () => ({ study_summaries: [...model.studies.values()].map((s) => model.summaryJson(s)) });
  model.onStudies = () => {
    if (studiesTimer) return;
    studiesTimer = setTimeout(() => {
      studiesTimer = null;
      const d = summaries();
      for (const c of clients) send(c, "studies", d);
    }, 50);
  };
  model.onTrials = (s, trials) => {
    s.rev = (s.rev ?? 0) + 1;
    const d = { study_id: s.id, trials: trials.map((t) => model.trialJson(s, t)) };
    for (const c of clients) if (c.studyId === s.id) send(c, "trials", d);
    model.onStudy(s);
    model.onStudies();
  };
  model.onStudy = (s) => {
    s.rev = (s.rev ?? 0) + 1;
    const d = { study_id: s.id, ...model.infoJson(s) };
    for (const c of clients) if (c.studyId === s.id) send(c, "study", d);
  };
  model.onDeleted = (id) => {
    for (const c of clients) send(c, "deleted", { study_id: id });
    model.onStudies();
  };
  const ping = setInterval(() => {
    for (const c of clients) c.res.write(": ping\n\n");
  }, 15000);

  const indexHtml = () => {
    const file = path.join(dist, "index.html");
    if (!fs.existsSync(file)) return "<!doctype html><p>web/dist is not built: run npm run build in web/</p>";
    // As loupe dashboard does: <base href> right after <head>, carrying the base path.
    return fs.readFileSync(file, "utf8").replace(/<head>/i, `<head><base href="${basePath}/">`);
  };

  const server = http.createServer(async (req, res) => {
    const u = new URL(req.url, "http://x");
    let p = u.pathname;
    if (basePath) {
      if (p === basePath || p === basePath + "/") p = "/";
      else if (p.startsWith(basePath + "/")) p = p.slice(basePath.length);
      else return json(res, 404, { reason: `not under the base path ${basePath}` });
    }
    p = p.replace(/\/+$/, "") || "/";
    const json = (r, status, body) => {
      r.writeHead(status, { "Content-Type": "application/json" });
      r.end(status === 204 ? undefined : JSON.stringify(body));
    };
    try {
      // Cross-site writes are refused: browsers send Origin / Sec-Fetch-Site on them.
      if (req.method !== "GET" && req.method !== "HEAD" && !p.startsWith("/__mock")) {
        const site = req.headers["sec-fetch-site"];
        const origin = req.headers.origin;
        if (site === "cross-site" || site === "same-site" || (origin && origin !== `http://${req.headers.host}`))
          throw new HttpError(403, "Cross-site requests are refused; open the dashboard itself to make changes.");
      }
      const body = req.method === "GET" ? null : await readBody(req);
      const parseJson = () => {
        if (!body || !body.length) return {};
        try {
          return JSON.parse(body.toString("utf8"));
        } catch {
          throw new HttpError(400, "The request body is not valid JSON.");
        }
      };
      let m;
      if (p === "/") {
        res.writeHead(302, { Location: `${basePath}/dashboard` });
        return res.end();
      }
      if (p === "/dashboard" || p.startsWith("/dashboard/")) {
        res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache", "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; object-src 'none'; connect-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self'" });
        return res.end(indexHtml());
      }
      if (p.startsWith("/assets/") || p === "/favicon.ico") {
        const f = path.join(dist, path.normalize(p).replace(/^\/+/, ""));
        if (!f.startsWith(dist) || !fs.existsSync(f)) return json(res, 404, { reason: "not found" });
        res.writeHead(200, { "Content-Type": guessMime(f), "Cache-Control": "public, max-age=31536000, immutable" });
        return res.end(fs.readFileSync(f));
      }
      if (p === "/api/meta") return json(res, 200, { artifact_is_available: artifacts, llm_is_available: false, plotlypy_is_available: false, allow_unsafe: false });
      if (p === "/api/events") {
        res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" });
        res.write(": hello\n\n");
        const c = { res, studyId: u.searchParams.has("study_id") ? Number(u.searchParams.get("study_id")) : null };
        clients.add(c);
        req.on("close", () => clients.delete(c));
        return;
      }
      if (p === "/api/studies" && req.method === "GET") return json(res, 200, summaries());
      if (p === "/api/studies" && req.method === "POST") {
        const b = parseJson();
        if (!b.study_name || !Array.isArray(b.directions) || !b.directions.length) throw new HttpError(400, "You need to set study_name and direction");
        const dirs = b.directions.map((d) => String(d).toLowerCase());
        if (dirs.some((d) => d !== "minimize" && d !== "maximize")) throw new HttpError(400, "directions must be either 'minimize' or 'maximize'.");
        const s = model.createStudy(b.study_name, dirs);
        return json(res, 201, { study_summary: model.summaryJson(s) });
      }
      if ((m = /^\/api\/studies\/(\d+)\/rename$/.exec(p)) && req.method === "POST") {
        const s = model.study(m[1]);
        const b = parseJson();
        if (!b.study_name) throw new HttpError(400, "You need to set study_name.");
        for (const o of model.studies.values()) if (o.name === b.study_name) throw new HttpError(400, "Study name already exists.");
        model.studies.delete(s.id);
        s.id = model.nextStudy++;
        s.name = b.study_name;
        model.studies.set(s.id, s);
        model.onDeleted(Number(m[1]));
        return json(res, 201, model.summaryJson(s));
      }
      if ((m = /^\/api\/studies\/(\d+)$/.exec(p))) {
        const s = model.study(m[1]);
        if (req.method === "DELETE") {
          model.studies.delete(s.id);
          model.onDeleted(s.id);
          return json(res, 204);
        }
        const after = Number(u.searchParams.get("after") ?? 0);
        if (after < 0) throw new HttpError(400, "`after` should be larger or equal 0.");
        if (after === 0) {
          // Serialised once per change: large studies are served as fast as the app can read.
          if (s.cacheRev !== (s.rev ?? 0) || !s.cache) {
            s.cache = JSON.stringify(model.detailJson(s));
            s.cacheRev = s.rev ?? 0;
          }
          res.writeHead(200, { "Content-Type": "application/json" });
          return res.end(s.cache);
        }
        return json(res, 200, { ...model.infoJson(s), trials: s.trials.slice(after).map((t) => model.trialJson(s, t)) });
      }
      if ((m = /^\/api\/studies\/(\d+)\/compact$/.exec(p)) && req.method === "GET") {
        const s = model.study(m[1]);
        if (s.compactRev !== (s.rev ?? 0) || !s.compact) {
          s.compact = JSON.stringify(model.compactJson(s));
          s.compactRev = s.rev ?? 0;
        }
        res.writeHead(200, { "Content-Type": "application/json" });
        return res.end(s.compact);
      }
      if ((m = /^\/api\/studies\/(\d+)\/param_importances$/.exec(p))) return json(res, 200, { param_importances: importances(model.study(m[1]), model) });
      if ((m = /^\/api\/studies\/(\d+)\/note$/.exec(p)) && req.method === "PUT") {
        const s = model.study(m[1]);
        const b = parseJson();
        if (typeof b.version !== "number" || typeof b.body !== "string") throw new HttpError(400, "Invalid request.");
        if (b.version !== s.note.version + 1) return json(res, 409, { reason: "The text you are editing has changed. Please copy your edits and refresh the page.", note: s.note });
        s.note = { version: b.version, body: b.body };
        model.onStudy(s);
        return json(res, 204);
      }
      if ((m = /^\/api\/studies\/(\d+)\/(\d+)\/note$/.exec(p)) && req.method === "PUT") {
        const s = model.study(m[1]);
        const t = s.trials.find((x) => x.trial_id === Number(m[2]));
        if (!t) throw new HttpError(404, `trial_id=${m[2]} is not found`);
        const b = parseJson();
        if (typeof b.version !== "number" || typeof b.body !== "string") throw new HttpError(400, "Invalid request.");
        if (b.version !== t.note.version + 1) return json(res, 409, { reason: "The text you are editing has changed. Please copy your edits and refresh the page.", note: t.note });
        t.note = { version: b.version, body: b.body };
        model.onTrials(s, [t]);
        return json(res, 204);
      }
      if ((m = /^\/api\/trials\/(\d+)\/tell$/.exec(p)) && req.method === "POST") {
        const [s, t] = model.findTrial(m[1]);
        const b = parseJson();
        if (!b.state) throw new HttpError(400, "state must be specified.");
        const st = String(b.state).toLowerCase();
        if (st !== "complete" && st !== "fail") throw new HttpError(400, "state must be either 'Complete' or 'Fail'.");
        if (t.state !== "Running" && t.state !== "Waiting") throw new HttpError(409, `Trial ${t.number} is already finished (${t.state}); a finished trial cannot be changed.`);
        if (st === "complete") {
          if (!Array.isArray(b.values)) throw new HttpError(400, "values attribute is required when state is 'Complete'.");
          if (b.values.some((v) => typeof v !== "number")) throw new HttpError(400, "values attribute must be an array of numbers");
          if (b.values.length !== s.directions.length) throw new HttpError(400, `The study has ${s.directions.length} objective(s) but ${b.values.length} value(s) were given.`);
          t.values = b.values;
          t.state = "Complete";
        } else t.state = "Fail";
        t.datetime_complete = nowIso();
        model.onTrials(s, [t]);
        return json(res, 204);
      }
      if ((m = /^\/api\/trials\/(\d+)\/user-attrs$/.exec(p)) && req.method === "POST") {
        const [s, t] = model.findTrial(m[1]);
        const b = parseJson();
        if (!b.user_attrs || !Object.keys(b.user_attrs).length) throw new HttpError(400, "user_attrs must be specified.");
        if (t.state !== "Running" && t.state !== "Waiting") throw new HttpError(409, "The trial is already finished.");
        Object.assign(t.user_attrs, b.user_attrs);
        model.onTrials(s, [t]);
        return json(res, 204);
      }
      if ((m = /^\/api\/artifacts\/(\d+)(?:\/(\d+))?$/.exec(p)) && req.method === "POST") {
        if (!artifacts) throw new HttpError(400, "Cannot access to the artifacts.");
        const s = model.study(m[1]);
        const t = m[2] ? s.trials.find((x) => x.trial_id === Number(m[2])) : null;
        if (m[2] && !t) throw new HttpError(400, `trial_id=${m[2]} is not found`);
        if (t && t.state !== "Running" && t.state !== "Waiting") throw new HttpError(400, "The trial is already finished.");
        let data, filename;
        if (u.searchParams.has("filename")) {
          filename = u.searchParams.get("filename");
          data = body;
        } else {
          const b = parseJson();
          if (!b.file) throw new HttpError(400, "Please specify the 'file' key.");
          filename = b.filename;
          data = Buffer.from(String(b.file).split(",")[1] ?? "", "base64");
        }
        const a = { artifact_id: crypto.randomUUID(), filename, mimetype: u.searchParams.get("mimetype") ?? guessMime(filename), encoding: null };
        model.blobs.set(a.artifact_id, data);
        if (t) {
          t.artifacts.push(a);
          model.onTrials(s, [t]);
        } else {
          s.artifacts.push(a);
          model.onStudy(s);
        }
        return json(res, 201, { artifact_id: a.artifact_id, artifacts: t ? t.artifacts : s.artifacts });
      }
      if ((m = /^\/api\/artifacts\/(\d+)(?:\/(\d+))?\/([0-9a-fA-F-]+)$/.exec(p)) && req.method === "DELETE") {
        const s = model.study(m[1]);
        const owner = m[2] ? s.trials.find((x) => x.trial_id === Number(m[2])) : s;
        const i = owner ? owner.artifacts.findIndex((a) => a.artifact_id === m[3]) : -1;
        if (i < 0) throw new HttpError(404, "Artifact is not found.");
        owner.artifacts.splice(i, 1);
        model.blobs.delete(m[3]);
        if (m[2]) model.onTrials(s, [owner]);
        else model.onStudy(s);
        return json(res, 204);
      }
      if ((m = /^\/artifacts\/(\d+)(?:\/(\d+))?\/([0-9a-fA-F-]+)$/.exec(p))) {
        const s = model.study(m[1]);
        const owner = m[2] ? s.trials.find((x) => x.trial_id === Number(m[2])) : s;
        const a = owner?.artifacts.find((x) => x.artifact_id === m[3]);
        const blob = a && model.blobs.get(a.artifact_id);
        if (!blob) {
          res.writeHead(404, { "Content-Type": "text/plain" });
          return res.end("Not Found");
        }
        res.writeHead(200, { "Content-Type": a.mimetype, "Content-Length": blob.length, "Cache-Control": "private, max-age=3600" });
        return res.end(blob);
      }
      if ((m = /^\/csv\/(\d+)$/.exec(p))) {
        const s = model.study(m[1]);
        return csv(res, s, model, u.searchParams.get("trial_ids"));
      }
      // test control
      if (p === "/__mock/reset" && req.method === "POST") {
        model.studies.clear();
        model.onStudies();
        return json(res, 204);
      }
      if (p === "/__mock/state") return json(res, 200, [...model.studies.values()].map((s) => ({ ...model.summaryJson(s), trials: s.trials.map((t) => ({ number: t.number, state: t.state, values: t.values, user_attrs: t.user_attrs })) })));
      if ((m = /^\/__mock\/studies\/(\d+)\/(form|metric_names|user_attrs)$/.exec(p)) && req.method === "POST") {
        const s = model.study(m[1]);
        const b = parseJson();
        if (m[2] === "form") s.form_widgets = b;
        else if (m[2] === "metric_names") s.metric_names = b;
        else Object.assign(s.user_attrs, b);
        model.onStudy(s);
        model.onStudies();
        return json(res, 204);
      }
      if ((m = /^\/__mock\/studies\/(\d+)\/trials$/.exec(p)) && req.method === "POST") {
        const s = model.study(m[1]);
        const b = parseJson();
        const list = Array.isArray(b) ? b : [b];
        const made = list.map((spec) => {
          const t = model.addTrial(s, spec);
          for (const a of spec.artifacts ?? []) {
            const art = { artifact_id: crypto.randomUUID(), filename: a.filename, mimetype: a.mimetype ?? guessMime(a.filename), encoding: null };
            model.blobs.set(art.artifact_id, a.png ? solidPng(...a.png) : Buffer.from(a.base64 ?? "", "base64"));
            t.artifacts.push(art);
            if (a.noteTemplate) t.note = { version: 1, body: a.noteTemplate.replace("{path}", `/artifacts/${s.id}/${t.trial_id}/${art.artifact_id}`) };
          }
          return t;
        });
        model.onTrials(s, made);
        return json(res, 201, made.map((t) => ({ trial_id: t.trial_id, number: t.number })));
      }
      throw new HttpError(404, `No route for ${req.method} ${p}`);
    } catch (e) {
      if (e instanceof HttpError) return json(res, e.status, { reason: e.message });
      console.error(e);
      return json(res, 500, { reason: "internal server error" });
    }
  });
  return new Promise((resolve) => {
    server.listen(port, "127.0.0.1", () => {
      const addr = server.address();
      if (!quiet) console.log(`mock loupe dashboard on http://127.0.0.1:${addr.port}${basePath}/dashboard`);
      resolve({
        model,
        port: addr.port,
        url: `http://127.0.0.1:${addr.port}${basePath}`,
        close: () => new Promise((r) => {
          clearInterval(ping);
          for (const c of clients) c.res.end();
          server.closeAllConnections?.();
          server.close(() => r());
        }),
      });
    });
  });
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const parts = [];
    let n = 0;
    req.on("data", (d) => {
      n += d.length;
      if (n > 256 * 1024 * 1024) reject(new HttpError(413, "The request body is too large."));
      parts.push(d);
    });
    req.on("end", () => resolve(Buffer.concat(parts)));
    req.on("error", reject);
  });
}

function importances(s, model) {
  const done = s.trials.filter((t) => t.state === "Complete" && t.values);
  const space = model.spaces(s).union;
  return s.directions.map((_, oi) => {
    if (done.length <= 1) return [];
    const y = done.map((t) => t.values[oi]);
    const raw = space.map((p) => {
      const pairs = done.map((t, i) => [t.params.find((q) => q.name === p.name)?.internal, y[i]]).filter((q) => typeof q[0] === "number");
      return { name: p.name, importance: Math.abs(corr(pairs)) + 1e-9, distribution: p.distribution.type };
    });
    const sum = raw.reduce((a, b) => a + b.importance, 0) || 1;
    return raw.map((r) => ({ ...r, importance: r.importance / sum })).sort((a, b) => b.importance - a.importance);
  });
}
function corr(pairs) {
  const n = pairs.length;
  if (n < 2) return 0;
  const mx = pairs.reduce((a, p) => a + p[0], 0) / n, my = pairs.reduce((a, p) => a + p[1], 0) / n;
  let sxy = 0, sx = 0, sy = 0;
  for (const [x, y] of pairs) {
    sxy += (x - mx) * (y - my);
    sx += (x - mx) ** 2;
    sy += (y - my) ** 2;
  }
  return sx && sy ? sxy / Math.sqrt(sx * sy) : 0;
}

function csv(res, s, model, ids) {
  let trials = s.trials;
  if (ids) {
    const want = new Set(ids.split(",").map(Number));
    trials = trials.filter((t) => want.has(t.number));
    if (!trials.length) throw new HttpError(404, "No trials matched trial_ids.");
  }
  const sp = model.spaces(s);
  const vcols = s.metric_names ?? (s.directions.length === 1 ? ["Value"] : s.directions.map((_, i) => `Objective ${i}`));
  const params = sp.union.map((p) => p.name);
  const attrs = [...new Set(s.trials.flatMap((t) => Object.keys(t.user_attrs)))].sort();
  const q = (v) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  const lines = [["Number", "State", ...vcols, ...params.map((p) => `Param ${p}`), ...attrs.map((a) => `UserAttribute ${a}`)].map(q).join(",")];
  for (const t of trials)
    lines.push([t.number, t.state.toUpperCase(), ...vcols.map((_, i) => (t.values ? t.values[i] : "")), ...params.map((p) => t.params.find((x) => x.name === p)?.external ?? ""), ...attrs.map((a) => t.user_attrs[a] ?? "")].map(q).join(","));
  res.writeHead(200, { "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": `attachment; filename=${s.name.replace(/[\\/:*?"<>|]/g, "").replace(/ /g, "-")}.csv` });
  res.end(lines.join("\n") + "\n");
}

// ---- helpers to build studies in-process (benchmarks, tests) ------------------------------
export function floatParam(name, v, low, high, log = false) {
  return { name, internal: v, external: String(v), pytyp: "<class 'float'>", distribution: { type: "FloatDistribution", low, high, step: null, log } };
}
export function intParam(name, v, low, high) {
  return { name, internal: v, external: String(v), pytyp: "<class 'int'>", distribution: { type: "IntDistribution", low, high, step: 1, log: false } };
}
export function catParam(name, i, choices) {
  return { name, internal: i, external: choices[i], pytyp: "<class 'str'>", distribution: { type: "CategoricalDistribution", choices: choices.map((c) => ({ pytype: "<class 'str'>", value: c })) } };
}

/** Adds n COMPLETE trials of a 3-param sphere (the shape of the upstream benchmark). */
export function fillSphere(model, s, n, seed = 1) {
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  const t0 = Date.now() - n * 1000;
  for (let i = 0; i < n; i++) {
    const px = rnd() * 20 - 10, py = rnd() * 20 - 10, pz = rnd() * 20 - 10;
    const v = px * px + py * py + pz * pz;
    const values = s.directions.length === 1 ? [v] : [v, (px - 2) ** 2 + py * py];
    model.addTrial(s, { state: "Complete", values, params: [floatParam("x", px, -10, 10), floatParam("y", py, -10, 10), floatParam("z", pz, -10, 10)], user_attrs: { loss: v / 2 }, start: new Date(t0 + i * 1000).toISOString().replace("Z", ""), complete: new Date(t0 + i * 1000 + 800).toISOString().replace("Z", "") });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
  const model = new Model();
  const seed = opt("--seed", null);
  if (seed) {
    const s = model.createStudy(`sphere-${seed}`, ["minimize"]);
    fillSphere(model, s, Number(seed));
  }
  if (args.includes("--demo")) {
    const s = model.createStudy("Human-in-the-loop Optimization", ["minimize"]);
    s.metric_names = ["Looks like sunset color?"];
    s.form_widgets = { output_type: "objective", widgets: [{ type: "choice", description: "Please input your score!", choices: ["Good 👍", "So-so👌", "Bad 👎"], values: [-1, 0, 1], user_attr_key: null }] };
    // A figure as save_plotly_graph_object() stores it, shown on the plots page.
    const fig = { data: [{ type: "bar", name: "ratings", x: ["Good", "So-so", "Bad"], y: [5, 3, 2] }], layout: { title: { text: "Ratings so far (a figure saved from Python)" } } };
    s.plotly_graph_objects = [{ id: "demo-figure", graph_object: JSON.stringify(fig) }];
    for (let i = 0; i < 4; i++) {
      const [r, g, b] = [Math.floor(Math.random() * 256), Math.floor(Math.random() * 256), Math.floor(Math.random() * 256)];
      const t = model.addTrial(s, { params: [intParam("r", r, 0, 255), intParam("g", g, 0, 255), intParam("b", b, 0, 255)] });
      const a = { artifact_id: crypto.randomUUID(), filename: `sample-${t.number}.png`, mimetype: "image/png", encoding: null };
      model.blobs.set(a.artifact_id, solidPng(r, g, b));
      t.artifacts.push(a);
      t.note = { version: 1, body: `## Trial ${t.number}\n\n![generated-image](/artifacts/${s.id}/${t.trial_id}/${a.artifact_id})\n` };
    }
  }
  void startMock({ port: Number(opt("--port", 8765)), basePath: opt("--base-path", ""), dist: path.resolve(opt("--dist", path.resolve(here, "../../web/dist"))), model, quiet: false });
}
