// Editing and safety: a study note edited in two tabs (the second save sees the conflict
// and keeps both texts reachable); trial artifacts uploaded, downloaded, viewed as a table
// and deleted; a note with <script> and javascript: links runs nothing; a page on another
// origin cannot change anything through the API; the app works under a base path.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { launch, startBackend, watchConsole, shotDir, solidPng, freePort } from "./lib.mjs";

let backend, browser, studyId, trial;

before(async () => {
  backend = await startBackend();
  studyId = await backend.createStudy("editing", ["minimize"]);
  [trial] = await backend.addTrials(studyId, [{ params: { r: 10, g: 20, b: 30 } }]);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await backend?.close();
});

async function studyNote() {
  const d = await (await fetch(`${backend.url}/api/studies/${studyId}`)).json();
  return d.note;
}

test("study note: edit with preview, save, and a conflict between two tabs", { timeout: 120000 }, async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const a = await ctx.newPage();
  const b = await ctx.newPage();
  const errors = [...watchConsole(a), ...watchConsole(b)];
  const errA = watchConsole(a);
  const errB = watchConsole(b);
  for (const p of [a, b]) {
    await p.goto(`${backend.url}/dashboard/studies/${studyId}/note`);
    await p.getByRole("button", { name: "Edit Study note" }).click();
  }
  await a.fill('textarea[aria-label="Markdown text"]', "# From tab A\n\n*emphasis*");
  // The preview renders the Markdown.
  await a.locator(".preview h1", { hasText: "From tab A" }).waitFor();
  await b.fill('textarea[aria-label="Markdown text"]', "# From tab B");
  await b.getByRole("button", { name: "Save", exact: true }).click();
  await b.locator("section.note:not(.editing) .markdown h1", { hasText: "From tab B" }).waitFor();
  assert.deepEqual(await studyNote(), { version: 1, body: "# From tab B" });

  // Tab A learns that B saved (live, or through the server's 409); its own text is kept.
  await a.getByRole("button", { name: "Save", exact: true }).click({ timeout: 2000 }).catch(() => {});
  await a.locator(".conflict").waitFor({ timeout: 10000 });
  assert.match(await a.locator(".conflict").textContent(), /From tab B/);
  assert.equal(await a.inputValue('textarea[aria-label="Markdown text"]'), "# From tab A\n\n*emphasis*");
  await a.screenshot({ path: path.join(shotDir(), "note-conflict.png") });
  await a.getByRole("button", { name: "Save mine over theirs" }).click();
  await a.locator("section.note:not(.editing) .markdown h1", { hasText: "From tab A" }).waitFor();
  assert.deepEqual(await studyNote(), { version: 2, body: "# From tab A\n\n*emphasis*" });
  // Tab B shows the new text without a reload.
  await b.locator("section.note:not(.editing) .markdown h1", { hasText: "From tab A" }).waitFor({ timeout: 10000 });
  assert.deepEqual([...errA, ...errB], []);
  void errors;
  await ctx.close();
});

test("trial artifacts: upload, view, download, CSV table, delete", { timeout: 120000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "loupe-art-"));
  const png = path.join(dir, "swatch.png");
  const csv = path.join(dir, "metrics.csv");
  fs.writeFileSync(png, solidPng(250, 100, 20, 64, 48));
  fs.writeFileSync(csv, 'step,loss,comment\n0,1.5,"first, with comma"\n1,0.75,second\n');
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const page = await ctx.newPage();
  const errors = watchConsole(page);
  await page.goto(`${backend.url}/dashboard/studies/${studyId}/trials?numbers=${trial.number}`);
  await page.setInputFiles('input[aria-label="Upload artifact"]', [png, csv]);
  await page.locator(".artifact-card img.media").waitFor();
  await page.locator(".artifact-card", { hasText: "metrics.csv" }).waitFor();
  // The image really loads from the artifact store.
  assert.ok(await page.locator(".artifact-card img.media").evaluate((img) => img.complete && img.naturalWidth === 64));
  // Download returns the same bytes.
  const [dl] = await Promise.all([page.waitForEvent("download"), page.locator(".artifact-card", { hasText: "swatch.png" }).getByRole("link", { name: "Download" }).click()]);
  assert.deepEqual(fs.readFileSync(await dl.path()), fs.readFileSync(png));
  // CSV viewer.
  await page.locator(".artifact-card", { hasText: "metrics.csv" }).getByRole("button", { name: "View table" }).click();
  await page.locator("dialog table.data td", { hasText: "first, with comma" }).waitFor();
  assert.equal(await page.locator("dialog table.data tbody tr").count(), 2);
  await page.screenshot({ path: path.join(shotDir(), "artifact-csv.png") });
  await page.keyboard.press("Escape");
  // The server lists both.
  let d = await (await fetch(`${backend.url}/api/studies/${studyId}`)).json();
  assert.deepEqual(d.trials[trial.number].artifacts.map((x) => x.filename).sort(), ["metrics.csv", "swatch.png"]);
  // Delete with confirmation.
  await page.getByRole("button", { name: "Delete swatch.png" }).click();
  await page.locator("dialog").getByRole("button", { name: "Delete" }).click();
  await page.locator(".artifact-card", { hasText: "swatch.png" }).waitFor({ state: "detached" });
  d = await (await fetch(`${backend.url}/api/studies/${studyId}`)).json();
  assert.deepEqual(d.trials[trial.number].artifacts.map((x) => x.filename), ["metrics.csv"]);
  assert.deepEqual(errors, []);
  await ctx.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("a note with <script> and javascript: links runs nothing", { timeout: 60000 }, async () => {
  const cur = await studyNote();
  const body = [
    "# Hostile note",
    "<script>window.__xss = 'script'</script>",
    '<img src="x" onerror="window.__xss = \'img\'">',
    "[click me](javascript:window.__xss='link')",
    "[encoded](jav&#x61;script:window.__xss='enc')",
    "![pic](javascript:window.__xss='imgsrc')",
    '<a href="javascript:window.__xss=\'raw\'">raw link</a>',
    "[fine](https://example.org/)",
  ].join("\n\n");
  const r = await fetch(`${backend.url}/api/studies/${studyId}/note`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ version: cur.version + 1, body }) });
  assert.equal(r.status, 204);
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  let dialogs = 0;
  page.on("dialog", (dlg) => {
    dialogs++;
    void dlg.dismiss();
  });
  await page.goto(`${backend.url}/dashboard/studies/${studyId}/note`);
  await page.locator(".note .markdown h1", { hasText: "Hostile note" }).waitFor();
  for (const text of ["click me", "encoded"]) {
    const link = page.locator(".note .markdown a", { hasText: text });
    if (await link.count()) await link.click().catch(() => {});
  }
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.equal(await page.locator(".note .markdown script, .note .markdown [onerror]").count(), 0);
  const hrefs = await page.locator(".note .markdown a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  assert.ok(hrefs.every((h) => h === null || !/^\s*javascript:/i.test(h)), `no javascript: href: ${hrefs}`);
  assert.ok(hrefs.includes("https://example.org/"));
  assert.equal(dialogs, 0);
  await page.screenshot({ path: path.join(shotDir(), "note-hostile.png") });
  await ctx.close();
});

test("a cross-site page cannot change anything through the API", { timeout: 60000 }, async () => {
  const port = await freePort();
  const target = backend.url;
  const evil = http.createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end(`<!doctype html><body>
<form id="f" method="POST" action="${target}/api/trials/${trial.trial_id}/tell" enctype="text/plain" target="sink">
<input name='{"state":"Fail","x":"' value='"}'></form>
<iframe name="sink"></iframe>
<script>
window.results = [];
const tries = [
  fetch("${target}/api/studies", { method: "POST", mode: "no-cors", headers: { "Content-Type": "text/plain" }, body: JSON.stringify({ study_name: "evil", directions: ["minimize"] }) }),
  fetch("${target}/api/trials/${trial.trial_id}/tell", { method: "POST", mode: "no-cors", headers: { "Content-Type": "text/plain" }, body: JSON.stringify({ state: "Fail" }) }),
  fetch("${target}/api/studies/${studyId}", { method: "DELETE", mode: "cors" }).catch(e => "blocked"),
  fetch("${target}/api/studies/${studyId}/note", { method: "PUT", mode: "no-cors", headers: { "Content-Type": "text/plain" }, body: JSON.stringify({ version: 99, body: "pwned" }) }),
];
Promise.allSettled(tries).then(() => { document.getElementById("f").submit(); setTimeout(() => (window.done = true), 800); });
</script></body>`);
  });
  await new Promise((r) => evil.listen(port, "127.0.0.1", r));
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  // "localhost" is another origin than 127.0.0.1 for the browser, and another site.
  await page.goto(`http://localhost:${port}/`);
  await page.waitForFunction(() => window.done === true, null, { timeout: 20000 });
  await ctx.close();
  evil.close();
  const list = await (await fetch(`${backend.url}/api/studies`)).json();
  assert.ok(!list.study_summaries.some((s) => s.study_name === "evil"), "no study was created");
  assert.ok(list.study_summaries.some((s) => s.study_id === studyId), "the study still exists");
  const d = await (await fetch(`${backend.url}/api/studies/${studyId}`)).json();
  assert.equal(d.trials[trial.number].state, "Running", "the trial was not failed");
  assert.notEqual(d.note.body, "pwned");
});

test("the app works under a base path", { timeout: 90000 }, async () => {
  const b2 = await startBackend({ basePath: "/loupe/x" });
  try {
    const sid = await b2.createStudy("under a prefix", ["minimize"]);
    await b2.registerForm(sid, { output_type: "objective", widgets: [{ type: "choice", description: "ok?", choices: ["yes", "no"], values: [0, 1], user_attr_key: null }] });
    await b2.addTrials(sid, [{ params: { r: 1, g: 2, b: 3 }, png: [1, 2, 3] }]);
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await ctx.addInitScript(() => localStorage.setItem("loupe.undoMs", "0"));
    const page = await ctx.newPage();
    const errors = watchConsole(page);
    const outside = [];
    page.on("request", (r) => {
      const u = new URL(r.url());
      if (u.host.startsWith("127.0.0.1") && !u.pathname.startsWith("/loupe/x/")) outside.push(u.pathname);
    });
    await page.goto(`${b2.url}/dashboard/`);
    await page.getByRole("link", { name: /under a prefix/ }).click();
    await page.locator(".rate-stage img.media").waitFor();
    assert.ok(await page.locator(".rate-stage img.media").evaluate((img) => img.complete && img.naturalWidth > 0), "artifact image loads under the prefix");
    assert.ok(page.url().startsWith(`${b2.url}/dashboard/studies/${sid}/rate`));
    await page.keyboard.press("1");
    await page.getByText("No trial is waiting for a rating.").waitFor();
    for (let i = 0; i < 50 && (await b2.trials(sid))[0].state !== "COMPLETE"; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual((await b2.trials(sid)).map((t) => [t.state, t.values]), [["COMPLETE", [0]]]);
    await page.goto(`${b2.url}/dashboard/studies/${sid}/plots`);
    await page.waitForSelector("#history .chart canvas");
    assert.deepEqual(outside, []);
    assert.deepEqual(errors, []);
    await ctx.close();
  } finally {
    await b2.close();
  }
});

test("live updates survive a server restart", { timeout: 120000 }, async () => {
  const sid = await backend.createStudy("restart", ["minimize"]);
  await backend.registerForm(sid, { output_type: "objective", widgets: [{ type: "choice", description: "ok?", choices: ["good", "bad"], values: [0, 1], user_attr_key: null }] });
  await backend.addTrials(sid, [{ params: { r: 5, g: 6, b: 7 }, png: [5, 6, 7] }]);
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await ctx.addInitScript(() => localStorage.setItem("loupe.undoMs", "0"));
  const page = await ctx.newPage();
  // While the server is down the browser logs failed connections; nothing else may fail.
  const errors = watchConsole(page, [/Failed to load resource|ERR_CONNECTION_REFUSED|EventSource/]);
  await page.goto(`${backend.url}/dashboard/studies/${sid}/rate`);
  await page.locator(".live.live").waitFor();
  const first = Number((await page.locator(".rate-head h1").textContent()).replace(/\D+/g, ""));
  const restarting = backend.restart(2500);
  await page.locator(".live.reconnecting").waitFor({ timeout: 10000 });
  await restarting;
  await page.locator(".live.live").waitFor({ timeout: 20000 });
  await page.keyboard.press("1");
  await page.getByText("No trial is waiting for a rating.").waitFor();
  // A trial made after the restart shows up by itself.
  await backend.addTrials(sid, [{ params: { r: 8, g: 9, b: 10 }, png: [8, 9, 10] }]);
  await page.locator(".rate-head h1", { hasText: `Trial ${first + 1}` }).waitFor({ timeout: 15000 });
  const trials = await backend.trials(sid);
  assert.deepEqual(trials.map((t) => [t.state, t.values]), [["COMPLETE", [0]], ["RUNNING", null]]);
  assert.deepEqual(errors, []);
  await ctx.close();
});
