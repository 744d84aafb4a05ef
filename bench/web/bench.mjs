// bench/web/bench.mjs -- the web app in real Chromium on studies of 1k/10k/100k trials:
// time to the first rating-queue render, to the trials list, to the history plot, the JS
// heap after each, the rating -> next-trial latency, and the initial JavaScript (gzipped).
//
//   node bench/web/bench.mjs [--sizes 1000,10000,100000] [--runs 3] [--json out.json] [--real LOUPE_BIN] [--db-cache DIR]
//
// By default the data is served by tests/browser/mock-server.mjs (in memory, the JSON
// serialised once), so the figures are the app's own cost plus a fetch on loopback; run
// web's `npm run build` first. With --real, `loupe dashboard` serves an Optuna SQLite file
// written by bench/web/make_db.py (and its embedded copy of the app); --db-cache DIR keeps
// those files in DIR and serves a fresh copy of them on later runs (the 100,000-trial one
// takes minutes to write).
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { launch, root } from "../../tests/browser/lib.mjs";
import { startMock, Model, fillSphere, intParam, solidPng } from "../../tests/browser/mock-server.mjs";
import crypto from "node:crypto";
import os from "node:os";
import { spawn, execFileSync } from "node:child_process";

const args = process.argv.slice(2);
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const sizes = opt("--sizes", "1000,10000,100000").split(",").map(Number);
const runs = Number(opt("--runs", "3"));

const FORM = { output_type: "objective", widgets: [{ type: "choice", description: "score", choices: ["Good", "So-so", "Bad"], values: [-1, 0, 1], user_attr_key: null }] };

function initialJs() {
  const dist = path.join(root, "web/dist");
  const html = fs.readFileSync(path.join(dist, "index.html"), "utf8");
  const files = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
  let raw = 0, gz = 0, jsGz = 0;
  for (const f of files) {
    const b = fs.readFileSync(path.join(dist, f));
    raw += b.length;
    const g = zlib.gzipSync(b, { level: 9 }).length;
    gz += g;
    if (f.endsWith(".js")) jsGz += g;
  }
  return { files, raw, gz, jsGz };
}

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function heapMB(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("HeapProfiler.collectGarbage");
  const m = await cdp.send("Performance.getMetrics").catch(async () => {
    await cdp.send("Performance.enable");
    return cdp.send("Performance.getMetrics");
  });
  await cdp.send("Performance.enable");
  const mm = (await cdp.send("Performance.getMetrics")).metrics;
  void m;
  return mm.find((x) => x.name === "JSHeapUsedSize").value / 1048576;
}

/** Opens url in a fresh context (cold cache) and returns when `selector` (and `ready`)
 *  first held, in the page's own clock from navigation start: a MutationObserver records
 *  it, because the test driver's own polling lags by seconds on a loaded machine. */
async function timeTo(browser, url, selector, ready) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await ctx.addInitScript(
    ([sel, readySrc]) => {
      localStorage.setItem("loupe.undoMs", "3000");
      const ok = readySrc ? new Function(`return (${readySrc})()`) : () => true;
      const check = () => {
        if (window.__at === undefined && document.querySelector(sel) && ok()) window.__at = performance.now();
        // All trials loaded (no "showing the newest" banner) as well.
        if (window.__at !== undefined && window.__full === undefined && !document.querySelector(".partial, .spinner") && document.querySelector(sel) && ok()) window.__full = performance.now();
      };
      setInterval(check, 50);
      document.addEventListener("DOMContentLoaded", () => {
        new MutationObserver(check).observe(document.body, { subtree: true, childList: true, attributes: true });
        document.addEventListener("load", check, true);
      });
    },
    [selector, ready ? ready.toString() : null],
  );
  const page = await ctx.newPage();
  await page.goto(url);
  await page.waitForFunction(() => window.__full !== undefined, null, { timeout: 300000, polling: 100 });
  const ms = Math.round(await page.evaluate(() => window.__at));
  const full = Math.round(await page.evaluate(() => window.__full));
  // Interactive: the main thread answers within one frame.
  const t1 = Date.now();
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
  const frame = Date.now() - t1;
  const heap = await heapMB(page);
  return { ms, full, frame, heap, page, ctx };
}

async function ratingLatency(page, n = 10) {
  // keydown -> the next trial's number is on screen (measured after the next paint).
  return page.evaluate(async (count) => {
    const out = [];
    for (let i = 0; i < count; i++) {
      const h = document.querySelector(".rate-head h1");
      if (!h) break;
      const before = h.textContent;
      const t0 = performance.now();
      window.dispatchEvent(new KeyboardEvent("keydown", { key: "2", bubbles: true }));
      await new Promise((resolve) => {
        const check = () => {
          const x = document.querySelector(".rate-head h1");
          if (!x || x.textContent !== before) requestAnimationFrame(() => resolve());
          else requestAnimationFrame(check);
        };
        check();
      });
      out.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 50));
    }
    return out;
  }, n);
}

async function serveMock(n) {
  const model = new Model();
  const s = model.createStudy(`bench-${n}`, ["minimize"]);
  s.form_widgets = FORM;
  fillSphere(model, s, n - 20, 42);
  for (let i = 0; i < 20; i++) {
    const t = model.addTrial(s, { params: [intParam("r", i * 10, 0, 255)] });
    const a = { artifact_id: crypto.randomUUID(), filename: `img-${i}.png`, mimetype: "image/png", encoding: null };
    model.blobs.set(a.artifact_id, solidPng(i * 10, 100, 200));
    t.artifacts.push(a);
    t.note = { version: 1, body: `## Trial ${t.number}\n\n![img](/artifacts/${s.id}/${t.trial_id}/${a.artifact_id})` };
  }
  const m = await startMock({ port: 0, model });
  return { url: m.url, studyId: s.id, close: () => m.close() };
}

async function serveReal(bin, n) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "loupe-webbench-"));
  const db = path.join(dir, "bench.db");
  const art = path.join(dir, "artifacts");
  fs.mkdirSync(art);
  const cache = opt("--db-cache", null);
  let sid;
  if (cache) {
    // make_db.py writes the same study every time: keep one and copy it (the app may rate).
    const cdb = path.join(cache, `bench-${n}.db`), cart = path.join(cache, `artifacts-${n}`), cid = path.join(cache, `bench-${n}.id`);
    if (!fs.existsSync(cid)) {
      fs.mkdirSync(cart, { recursive: true });
      fs.rmSync(cdb, { force: true });
      const id = execFileSync("/usr/bin/python3", [path.join(root, "bench/web/make_db.py"), cdb, cart, String(n)], { encoding: "utf8" }).trim();
      fs.writeFileSync(cid, id);
    }
    fs.copyFileSync(cdb, db);
    fs.cpSync(cart, art, { recursive: true });
    sid = Number(fs.readFileSync(cid, "utf8"));
  } else sid = Number(execFileSync("/usr/bin/python3", [path.join(root, "bench/web/make_db.py"), db, art, String(n)], { encoding: "utf8" }).trim());
  const port = 20000 + Math.floor(Math.random() * 20000);
  const proc = spawn(bin, ["dashboard", `sqlite:///${db}`, "--port", String(port), "--artifact-dir", art, "-q"], { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/api/meta`)).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    studyId: sid,
    close: async () => {
      proc.kill("SIGTERM");
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.on("exit", r)));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const results = { date: new Date().toISOString(), load: os.loadavg(), server: opt("--real", null) ? "loupe dashboard" : "mock", initial: initialJs(), sizes: [] };
console.log(`initial JS+CSS: ${results.initial.files.join(", ")}; JS gzipped ${(results.initial.jsGz / 1024).toFixed(1)} KiB, all gzipped ${(results.initial.gz / 1024).toFixed(1)} KiB`);

const browser = await launch();
for (const n of sizes) {
  let srv;
  if (opt("--real", null)) srv = await serveReal(opt("--real", null), n);
  else srv = await serveMock(n);
  const s = { id: srv.studyId };
  const mock = { url: srv.url, close: srv.close };
  // (This first fetch also fills the mock's serialisation cache.)
  const bytes = (await (await fetch(`${mock.url}/api/studies/${s.id}`)).arrayBuffer()).byteLength;
  // What the app loads: the compact feed (a 404 from an older server means the full detail).
  const cres = await fetch(`${mock.url}/api/studies/${s.id}/compact`);
  const compactBytes = cres.ok ? (await cres.arrayBuffer()).byteLength : null;
  const row = { trials: n, study_json_bytes: bytes, compact_bytes: compactBytes, rate: [], trials_page: [], history: [], full: { rate: [], trials_page: [], history: [] }, heap: {}, rating_ms: [] };
  for (let r = 0; r < runs; r++) {
    let x = await timeTo(browser, `${mock.url}/dashboard/studies/${s.id}/rate`, ".rate-stage img.media", () => {
      const img = document.querySelector(".rate-stage img.media");
      return img && img.complete && img.naturalWidth > 0;
    });
    row.rate.push(x.ms);
    row.full.rate.push(x.full);
    row.heap.rate = x.heap;
    if (r === 0) row.rating_ms = await ratingLatency(x.page, 10);
    await x.ctx.close();
    x = await timeTo(browser, `${mock.url}/dashboard/studies/${s.id}/trials`, ".trial-detail h2");
    row.trials_page.push(x.ms);
    row.full.trials_page.push(x.full);
    row.heap.trials = x.heap;
    await x.ctx.close();
    x = await timeTo(browser, `${mock.url}/dashboard/studies/${s.id}/plots`, "#history .chart[data-points] canvas");
    row.history.push(x.ms);
    row.full.history.push(x.full);
    row.heap.plots = x.heap;
    row.frame_after_plots = x.frame;
    await x.ctx.close();
  }
  await mock.close();
  results.sizes.push(row);
  console.log(
    `${n} trials (${(bytes / 1048576).toFixed(1)} MB JSON, compact feed ${compactBytes === null ? "absent" : (compactBytes / 1048576).toFixed(1) + " MB"}): rating queue ${median(row.rate)} ms (all trials ${median(row.full.rate)}), trials list ${median(row.trials_page)} ms (all ${median(row.full.trials_page)}), history plot ${median(row.history)} ms (all ${median(row.full.history)}); ` +
      `heap ${row.heap.rate.toFixed(0)}/${row.heap.trials.toFixed(0)}/${row.heap.plots.toFixed(0)} MB; rating->next median ${median(row.rating_ms).toFixed(1)} ms (max ${Math.max(...row.rating_ms).toFixed(1)})`,
  );
}
await browser.close();
const out = opt("--json", null);
if (out) fs.writeFileSync(out, JSON.stringify(results, null, 2));
