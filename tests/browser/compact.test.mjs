// The compact trial feed (GET /api/studies/:id/compact, loupe's addition) decoded by the
// web app's own decoder (web/src/lib/compact.ts, transpiled here as Vite does) equals
// GET /api/studies/:id exactly (both as plain objects and as the on-demand views the app
// keeps), for studies written by Python Optuna with every kind of
// param, attr, value and state, notes, artifacts, fixed params and constraints. Needs the
// real `loupe dashboard` ($LOUPE_BIN); the mock server has no compact feed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import { startBackend, useRealServer, root } from "./lib.mjs";

const real = useRealServer();
let backend, decode;
const ids = {};

before(async () => {
  if (!real) return;
  // Vite's own TypeScript transform (rolldown's oxc), from web/node_modules.
  const { transformSync } = await import(createRequire(path.join(root, "web/package.json")).resolve("rolldown/experimental"));
  const file = path.join(root, "web/src/lib/compact.ts");
  const out = transformSync(file, fs.readFileSync(file, "utf8"));
  if (out.errors?.length) throw new Error(`transpiling ${file}: ${JSON.stringify(out.errors)}`);
  const js = out.code;
  decode = await import("data:text/javascript;base64," + Buffer.from(js).toString("base64"));
  backend = await startBackend();
  ids.mixed = await backend.createStudy("mixed", ["minimize"]);
  ids.multi = await backend.createStudy("multi", ["minimize", "maximize"]);
  ids.empty = await backend.createStudy("empty", ["maximize"]);
  // Python Optuna writes the trials, as a user's script would.
  execFileSync(process.env.LOUPE_PYTHON ?? "/usr/bin/python3", ["-c", `
import math, sys, optuna
from optuna.distributions import FloatDistribution as F, IntDistribution as I, CategoricalDistribution as C
from optuna.trial import TrialState as S, create_trial
optuna.logging.set_verbosity(optuna.logging.WARNING)
st = optuna.storages.RDBStorage('sqlite:///' + sys.argv[1])
mixed = optuna.load_study(study_name='mixed', storage=st)
floats = [0.5, 1e-05, 123456789.0, -2.5e-300, 1e+22, 0.1 + 0.2, -0.0, 3.0]
for i, x in enumerate(floats):
    mixed.add_trial(create_trial(
        params={'x': x, 'n': i * 3 - 7, 'c': ['a', 7, 2.5, None, True, "it's"][i % 6], 'lr': 10 ** -(i % 5)},
        distributions={'x': F(-1e300, 1e300), 'n': I(-10, 100, step=1), 'c': C(['a', 7, 2.5, None, True, "it's"]), 'lr': F(1e-6, 1.0, log=True)},
        value=[1.5, float('inf'), -float('inf'), 0.0, -1e-07, 42.0, 2.0, 7.25][i],
        user_attrs={'s': 'text "q" \\\\ ü', 'i': i, 'f': i / 3, 'l': [1, 'b', None], 'd': {'k': [True, False]}, 'none': None, 'long': 'x' * 3000} if i % 2 == 0 else {},
        intermediate_values={0: 1.0, 1: float('inf'), 2: float('nan'), 5: -3.5} if i % 3 == 0 else {}))
# other ranges of the same names (a dynamic search space), and steps
mixed.add_trial(create_trial(params={'x': 2.0, 'n': 4}, distributions={'x': F(0, 10, step=0.5), 'n': I(0, 8, step=2)}, value=3.0))
mixed.add_trial(create_trial(params={'y': 1.0}, distributions={'y': F(0, 2)}, state=S.PRUNED, intermediate_values={3: 0.25}))
mixed.add_trial(create_trial(params={'y': 1.5}, distributions={'y': F(0, 2)}, state=S.FAIL))
mixed.enqueue_trial({'x': 1.25, 'n': 3})
t = mixed.ask(); t.suggest_float('x', -1e300, 1e300)    # RUNNING: the enqueued one, with fixed params
t2 = mixed.ask(); t2.suggest_int('n', -10, 100); t2.set_user_attr('who', 'me')
st.set_trial_system_attr(t2._trial_id, 'constraints', [0.5, -1.0])
multi = optuna.load_study(study_name='multi', storage=st)
for i in range(30):
    multi.add_trial(create_trial(params={'a': i / 7}, distributions={'a': F(0, 5)}, values=[i / 7, (i % 5) / 3]))
`, backend.db]);
  // A note and an artifact on a running trial go through the dashboard's API.
  const trials = (await (await fetch(`${backend.url}/api/studies/${ids.mixed}`)).json()).trials;
  const running = trials.find((t) => t.state === "Running");
  const up = await fetch(`${backend.url}/api/artifacts/${ids.mixed}/${running.trial_id}?filename=a.txt`, { method: "POST", headers: { "Content-Type": "text/plain" }, body: "hello" });
  assert.equal(up.status, 201);
  const note = await fetch(`${backend.url}/api/studies/${ids.mixed}/${trials[1].trial_id}/note`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ version: 1, body: "## note" }) });
  assert.equal(note.status, 204);
});

after(async () => {
  await backend?.close();
});

async function both(id) {
  const full = await (await fetch(`${backend.url}/api/studies/${id}`)).json();
  const res = await fetch(`${backend.url}/api/studies/${id}/compact`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /application\/json/);
  return { full, compact: await res.json() };
}

test("compact feed decodes to exactly the study detail", { skip: !real && "needs `loupe dashboard` ($LOUPE_BIN)" }, async () => {
  for (const [name, id] of Object.entries(ids)) {
    const { full, compact } = await both(id);
    assert.deepEqual(compact.trials, [], `${name}: no trials outside the compact rows`);
    assert.deepEqual(decode.decodeStudy(compact), full, `${name}: decoded compact feed differs from api/studies/${id}`);
    // What the app keeps: views that read each row on demand (RowTrial), read field by
    // field (twice: params etc. are built on first use and then kept) and as plain objects.
    const views = new Array(compact.compact_trials.rows.length);
    decode.viewRows(compact.compact_trials, 0, views.length, views);
    for (const pass of [1, 2])
      assert.deepEqual(views.map((t) => decode.plainTrial(t)), full.trials, `${name}: trial views (pass ${pass}) differ from api/studies/${id}`);
    const rowViews = views.filter((t) => t instanceof decode.RowTrial);
    assert.equal(rowViews.length, compact.compact_trials.rows.filter(Array.isArray).length, `${name}: every short row is read as a RowTrial view`);
    for (const t of rowViews) {
      const f = full.trials[t.number];
      assert.equal(t.startUs === null ? undefined : decode.isoformatUs(t.startUs), f.datetime_start);
      assert.equal(t.completeUs === null ? undefined : decode.isoformatUs(t.completeUs), f.datetime_complete);
      assert.equal(t.params, t.params, "params are built once");
    }
  }
  // Both row forms are used: short rows, and full objects for the trials with a note,
  // an artifact, fixed params or constraints (3 in "mixed": the note; the enqueued trial,
  // now running, with its fixed params and the artifact; the constraints).
  const { compact } = await both(ids.mixed);
  const objects = compact.compact_trials.rows.filter((r) => !Array.isArray(r));
  assert.equal(objects.length, 3);
  assert.ok(objects.some((t) => t.note.body === "## note"));
  assert.ok(objects.some((t) => t.fixed_params.length === 2 && t.artifacts.length === 1));
  assert.ok(objects.some((t) => t.constraints.length === 2));
  assert.equal(compact.compact_trials.rows.length, 13);
  // Each distinct (name, distribution) is listed once.
  const kinds = compact.compact_trials.params.map(([n, d]) => n + JSON.stringify(d));
  assert.equal(new Set(kinds).size, kinds.length);
  assert.ok(kinds.length >= 6);
  // The server keeps the last answers: a change must show in the next one.
  const t0 = compact.compact_trials.rows[0];
  assert.ok(Array.isArray(t0));
  const put = await fetch(`${backend.url}/api/studies/${ids.mixed}/${t0[0]}/note`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ version: 1, body: "later" }) });
  assert.equal(put.status, 204);
  const again = await both(ids.mixed);
  assert.equal(again.compact.compact_trials.rows[0].note.body, "later");
  assert.deepEqual(decode.decodeStudy(again.compact), again.full);
});

test("the compact feed parsed as it arrives (FeedParser) equals one JSON.parse, in any chunking", { skip: !real && "needs `loupe dashboard` ($LOUPE_BIN)" }, async () => {
  for (const [name, id] of Object.entries(ids)) {
    const text = await (await fetch(`${backend.url}/api/studies/${id}/compact`)).text();
    const want = JSON.parse(text);
    // Chunks of 1 and 7 characters cut every token, string, escape and the start marker.
    for (const size of [1, 7, 4096, text.length]) {
      const p = new decode.FeedParser();
      for (let i = 0; i < text.length; i += size) p.push(text.slice(i, i + size));
      assert.deepEqual(p.finish(), want, `${name}: chunks of ${size}`);
    }
  }
  // Not a compact feed: finish() says so (the app then parses the whole text).
  const p = new decode.FeedParser();
  p.push(JSON.stringify({ trials: [] }));
  assert.throws(() => p.finish(), /not a compact trial feed/);
  const q = new decode.FeedParser();
  q.push('{"name": "x", "compact_trials": {"version": 1, "study_id": 1, "rows": [[1, "Complete"');
  assert.throws(() => q.finish(), /not a compact trial feed/);
});

test("compact feed: unknown study and wrong method", { skip: !real && "needs `loupe dashboard` ($LOUPE_BIN)" }, async () => {
  const r = await fetch(`${backend.url}/api/studies/9999/compact`);
  assert.equal(r.status, 404);
  assert.match((await r.json()).reason, /study_id=9999 is not found/);
  const p = await fetch(`${backend.url}/api/studies/${ids.mixed}/compact`, { method: "POST" });
  assert.ok(p.status === 405 || p.status === 404, `POST answered ${p.status}`);
});

test("isoformat of microseconds matches Python's", { skip: !real && "needs `loupe dashboard` ($LOUPE_BIN)" }, () => {
  assert.equal(decode.isoformatUs(0), "1970-01-01T00:00:00");
  assert.equal(decode.isoformatUs(1793491200800000), "2026-11-01T00:00:00.800000");
  assert.equal(decode.isoformatUs(1793491200000001), "2026-11-01T00:00:00.000001");
  assert.equal(decode.isoformatUs(-1), "1969-12-31T23:59:59.999999");
  assert.equal(decode.isoformatUs(951868799000000), "2000-02-29T23:59:59");
  assert.equal(decode.isoformatUs(951868800000000), "2000-03-01T00:00:00");
  // Every 7.78 s over four days, against the Date-based formatting.
  for (let us = 1793491200000000 - 86400e6 * 2; us < 1793491200000000 + 86400e6 * 2; us += 7777777) {
    const secs = Math.floor(us / 1e6), frac = us - secs * 1e6;
    const want = new Date(secs * 1000).toISOString().slice(0, 19) + (frac ? "." + String(frac).padStart(6, "0") : "");
    assert.equal(decode.isoformatUs(us), want);
  }
});
