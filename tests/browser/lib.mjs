// Shared helpers of the browser tests: Debian's Chromium driven by playwright-core (from
// web/node_modules), a backend that is the real `loupe dashboard` ($LOUPE_BIN) when it
// serves the app and the mock server otherwise, console-error collection, screenshots.
import { createRequire } from "node:module";
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { startMock, solidPng } from "./mock-server.mjs";

export const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, "../..");
const require = createRequire(path.join(root, "web/package.json"));
const { chromium } = require("playwright-core");

export const CHROMIUM = process.env.LOUPE_CHROMIUM ?? "/usr/bin/chromium";
export const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

/** Where screenshots go: the build directory (never committed). */
export function shotDir() {
  const d = path.join(process.env.LOUPE_BUILD ?? path.join(root, "build"), "browser-screenshots");
  fs.mkdirSync(d, { recursive: true });
  return d;
}

export async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

/** Collects console errors and page errors; call check() at the end. A failed load's console
 * line does not name its URL, so failed responses are recorded next to it. */
export function watchConsole(page, ignore = []) {
  const errors = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !ignore.some((r) => r.test(m.text()))) errors.push(`console: ${m.text()}`);
  });
  page.on("response", (r) => {
    const line = `response: Failed to load resource: the server responded with a status of ${r.status()} (${r.request().method()} ${r.url()})`;
    if (r.status() < 400 || ignore.some((re) => re.test(line))) return;
    // The server's message says which check refused the request.
    const i = errors.push(line) - 1;
    r.text().then((t) => (errors[i] += ` body: ${t.slice(0, 300)}`), () => {});
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

export { solidPng };

// ---- backends ----------------------------------------------------------------------------
// A backend gives: url, studies helpers (create study, register form, add RUNNING trials with
// a PNG + note, read back trial states) and close(). The real one drives Python Optuna on
// the SQLite file that `loupe dashboard` serves; the mock keeps everything in memory.

export function useRealServer() {
  const bin = process.env.LOUPE_BIN;
  if (process.env.LOUPE_WEB_TESTS_MOCK === "1" || !bin || !fs.existsSync(bin)) return false;
  try {
    const help = execFileSync(bin, ["dashboard", "--help"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 5000 });
    return /dashboard/i.test(help);
  } catch (e) {
    return /dashboard/i.test(String(e.stdout ?? "")) && !/unknown|not a loupe command/i.test(String(e.stderr ?? ""));
  }
}

export async function startBackend({ basePath = "" } = {}) {
  if (useRealServer()) return startReal({ basePath });
  const m = await startMock({ port: 0, basePath });
  return new MockBackend(m, basePath);
}

class MockBackend {
  constructor(m, basePath = "") {
    this.m = m;
    this.url = m.url;
    this.kind = "mock";
    this.basePath = basePath;
  }
  async close() {
    await this.m.close();
  }
  /** Stops the server and starts it again on the same port with the same data. */
  async restart(downMs = 1500) {
    await this.m.close();
    await new Promise((r) => setTimeout(r, downMs));
    this.m = await startMock({ port: this.m.port, basePath: this.basePath, model: this.m.model });
  }
  async createStudy(name, directions = ["minimize"]) {
    return this.m.model.createStudy(name, directions).id;
  }
  async registerForm(studyId, form) {
    const s = this.m.model.study(studyId);
    s.form_widgets = form;
    this.m.model.onStudy(s);
  }
  async setMetricNames(studyId, names) {
    this.m.model.study(studyId).metric_names = names;
  }
  /** specs: [{params:{r,g,b}, png:[r,g,b], state, values}] */
  async addTrials(studyId, specs) {
    const r = await fetch(`${this.url}/__mock/studies/${studyId}/trials`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(
        specs.map((sp) => ({
          state: sp.state ?? "Running",
          values: sp.values ?? null,
          params: Object.entries(sp.params ?? {}).map(([k, v]) => ({ name: k, internal: v, external: String(v), pytyp: typeof v === "number" && Number.isInteger(v) ? "<class 'int'>" : "<class 'float'>", distribution: Number.isInteger(v) ? { type: "IntDistribution", low: 0, high: 255, step: 1, log: false } : { type: "FloatDistribution", low: -10, high: 10, step: null, log: false } })),
          intermediate: sp.intermediate ?? [],
          user_attrs: sp.user_attrs ?? {},
          artifacts: sp.png ? [{ filename: `sample-${sp.params?.r ?? 0}.png`, png: sp.png, noteTemplate: sp.note ?? "## Trial\n\n![generated-image]({path})\n" }] : [],
        })),
      ),
    });
    if (!r.ok) throw new Error(`mock addTrials: ${r.status} ${await r.text()}`);
    return r.json();
  }
  async trials(studyId) {
    return this.m.model.study(studyId).trials.map((t) => ({ number: t.number, state: t.state.toUpperCase(), values: t.values }));
  }
}

// ---- the real server -------------------------------------------------------------------

function py(script, args) {
  return execFileSync(process.env.LOUPE_PYTHON ?? "/usr/bin/python3", ["-c", script, ...args], { encoding: "utf8", timeout: 60000, env: { ...process.env, PYTHONWARNINGS: "ignore" } });
}

async function startReal({ basePath }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "loupe-web-"));
  const db = path.join(dir, "db.sqlite3");
  const art = path.join(dir, "artifacts");
  fs.mkdirSync(art);
  // Create the schema with Python Optuna (the dashboard must serve an Optuna-made file).
  py("import optuna,sys; optuna.logging.set_verbosity(optuna.logging.WARNING); optuna.storages.RDBStorage('sqlite:///'+sys.argv[1])", [db]);
  const port = await freePort();
  const args = ["dashboard", `sqlite:///${db}`, "--port", String(port), "--host", "127.0.0.1", "--artifact-dir", art];
  if (basePath) args.push("--base-path", basePath);
  const url = `http://127.0.0.1:${port}${basePath}`;
  const { proc, log } = await spawnReal(args, url);
  const b = new RealBackend(proc, url, db, dir, log);
  b.args = args;
  return b;
}

async function spawnReal(args, url) {
  const proc = spawn(process.env.LOUPE_BIN, args, { stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  proc.stdout.on("data", (d) => (text += d));
  proc.stderr.on("data", (d) => (text += d));
  for (let i = 0; i < 150; i++) {
    try {
      const r = await fetch(`${url}/api/meta`);
      if (r.ok) break;
    } catch {}
    if (proc.exitCode !== null) throw new Error(`loupe dashboard exited: ${text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, log: () => text };
}

const PY_PRELUDE = `
import optuna, json, sys
optuna.logging.set_verbosity(optuna.logging.WARNING)
storage = optuna.storages.RDBStorage('sqlite:///' + sys.argv[1])
`;

class RealBackend {
  constructor(proc, url, db, dir, log) {
    Object.assign(this, { proc, url, db, dir, log, kind: "real" });
  }
  async stop() {
    this.proc.kill("SIGTERM");
    await new Promise((r) => (this.proc.exitCode !== null ? r() : this.proc.on("exit", r)));
  }
  async close() {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
  /** Stops `loupe dashboard` and starts it again on the same port and database. */
  async restart(downMs = 1500) {
    await this.stop();
    await new Promise((r) => setTimeout(r, downMs));
    const { proc, log } = await spawnReal(this.args, this.url);
    this.proc = proc;
    this.log = log;
  }
  async createStudy(name, directions = ["minimize"]) {
    const r = await fetch(`${this.url}/api/studies`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ study_name: name, directions }) });
    if (r.status !== 201) throw new Error(`create study: ${r.status} ${await r.text()}`);
    return (await r.json()).study_summary.study_id;
  }
  async registerForm(studyId, form) {
    py(PY_PRELUDE + "storage.set_study_system_attr(int(sys.argv[2]), 'dashboard:form_widgets:v2', json.loads(sys.argv[3]))", [this.db, String(studyId), JSON.stringify(form)]);
  }
  async setMetricNames(studyId, names) {
    py(PY_PRELUDE + "storage.set_study_system_attr(int(sys.argv[2]), 'study:metric_names', json.loads(sys.argv[3]))", [this.db, String(studyId), JSON.stringify(names)]);
  }
  async addTrials(studyId, specs) {
    // Python Optuna asks the trials (as the user's script does); the PNG and the note go
    // through the dashboard's HTTP API (raw upload, trial note PUT).
    const out = py(
      PY_PRELUDE +
        `
study = optuna.load_study(study_name=storage.get_study_name_from_id(int(sys.argv[2])), storage=storage)
res = []
for sp in json.loads(sys.argv[3]):
    st = sp.get('state', 'Running')
    if st == 'Running':
        t = study.ask()
        for k, v in sp.get('params', {}).items():
            t.suggest_int(k, 0, 255) if isinstance(v, int) else t.suggest_float(k, -10, 10)
        for step, v in sp.get('intermediate', []):
            t.report(v, step)
        for k, v in sp.get('user_attrs', {}).items():
            t.set_user_attr(k, v)
        res.append({'trial_id': t._trial_id, 'number': t.number})
    else:
        dists = {k: (optuna.distributions.IntDistribution(0, 255) if isinstance(v, int) else optuna.distributions.FloatDistribution(-10, 10)) for k, v in sp.get('params', {}).items()}
        ft = optuna.trial.create_trial(params=sp.get('params', {}), distributions=dists, values=sp.get('values'), state=getattr(optuna.trial.TrialState, st.upper()), user_attrs=sp.get('user_attrs', {}), intermediate_values=dict(sp.get('intermediate', [])))
        study.add_trial(ft)
        t = study.trials[-1]
        res.append({'trial_id': t._trial_id, 'number': t.number})
print(json.dumps(res))
`,
      [this.db, String(studyId), JSON.stringify(specs)],
    );
    const made = JSON.parse(out.trim().split("\n").pop());
    for (let i = 0; i < specs.length; i++) {
      const sp = specs[i];
      if (!sp.png) continue;
      const t = made[i];
      const r = await fetch(`${this.url}/api/artifacts/${studyId}/${t.trial_id}?filename=sample-${t.number}.png`, { method: "POST", headers: { "Content-Type": "image/png" }, body: solidPng(...sp.png) });
      if (r.status !== 201) throw new Error(`upload: ${r.status} ${await r.text()}`);
      const { artifact_id } = await r.json();
      const body = (sp.note ?? "## Trial\n\n![generated-image]({path})\n").replace("{path}", `/artifacts/${studyId}/${t.trial_id}/${artifact_id}`);
      const n = await fetch(`${this.url}/api/studies/${studyId}/${t.trial_id}/note`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ version: 1, body }) });
      if (n.status !== 204) throw new Error(`note: ${n.status} ${await n.text()}`);
    }
    return made;
  }
  async trials(studyId) {
    const out = py(
      PY_PRELUDE +
        `
study = optuna.load_study(study_name=storage.get_study_name_from_id(int(sys.argv[2])), storage=storage)
print(json.dumps([{'number': t.number, 'state': t.state.name, 'values': t.values} for t in study.get_trials(deepcopy=False)]))
`,
      [this.db, String(studyId)],
    );
    return JSON.parse(out.trim().split("\n").pop());
  }
}

// ---- a Python-Optuna fixture database ----------------------------------------------------

/** Serves a copy of an Optuna SQLite file: with `loupe dashboard` when available, else the
 *  mock filled from the file by Python Optuna (trials, metric names, form, notes, artifacts). */
export async function startFixtureBackend(fixture) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "loupe-fixture-"));
  const db = path.join(dir, "fixture.db");
  fs.copyFileSync(fixture, db);
  if (useRealServer()) {
    const art = path.join(dir, "artifacts");
    fs.mkdirSync(art);
    const port = await freePort();
    const proc = spawn(process.env.LOUPE_BIN, ["dashboard", `sqlite:///${db}`, "--port", String(port), "--host", "127.0.0.1", "--artifact-dir", art], { stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    proc.stdout.on("data", (d) => (log += d));
    proc.stderr.on("data", (d) => (log += d));
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`${url}/api/meta`)).ok) break;
      } catch {}
      if (proc.exitCode !== null) throw new Error(`loupe dashboard exited: ${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const b = new RealBackend(proc, url, db, dir, () => log);
    b.args = ["dashboard", `sqlite:///${db}`, "--port", String(port), "--host", "127.0.0.1", "--artifact-dir", art];
    return b;
  }
  const out = py(
    PY_PRELUDE +
      `
out = []
for s in storage.get_all_studies():
    sid = s._study_id
    sys_attrs = storage.get_study_system_attrs(sid)
    trials = []
    for t in storage.get_all_trials(sid, deepcopy=False):
        arts = [json.loads(v) for k, v in t.system_attrs.items() if k.startswith('artifacts:') and v and json.loads(v)]
        note = ''.join(sys_attrs.get('dashboard:%d:note_str:%d' % (t._trial_id, i), '') for i in range(100))
        trials.append({'state': t.state.name.capitalize(), 'values': t.values, 'params': [{'name': k, 'internal': t.distributions[k].to_internal_repr(v), 'external': str(v), 'pytyp': str(type(v)), 'distribution': {'type': type(t.distributions[k]).__name__, **({'choices': [{'pytype': str(type(c)), 'value': str(c)} for c in t.distributions[k].choices]} if hasattr(t.distributions[k], 'choices') else {'low': t.distributions[k].low, 'high': t.distributions[k].high, 'step': t.distributions[k].step, 'log': t.distributions[k].log})}} for k, v in t.params.items()], 'user_attrs': t.user_attrs, 'note': note, 'artifacts': arts, 'start': t.datetime_start.isoformat() if t.datetime_start else None, 'complete': t.datetime_complete.isoformat() if t.datetime_complete else None})
    out.append({'name': s.study_name, 'directions': [d.name.lower() for d in s.directions], 'metric_names': sys_attrs.get('study:metric_names'), 'form': sys_attrs.get('dashboard:form_widgets:v2'), 'trials': trials})
print(json.dumps(out))
`,
    [db],
  );
  const studies = JSON.parse(out.trim().split("\n").pop());
  const m = await startMock({ port: 0 });
  for (const sd of studies) {
    const s = m.model.createStudy(sd.name, sd.directions);
    s.metric_names = sd.metric_names ?? null;
    s.form_widgets = sd.form ?? null;
    for (const t of sd.trials) {
      const tr = m.model.addTrial(s, { state: t.state, values: t.values, params: t.params, user_attrs: t.user_attrs, note: t.note, start: t.start, complete: t.complete });
      tr.artifacts = t.artifacts;
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return new MockBackend(m);
}
