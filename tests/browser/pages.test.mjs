// Every page opens without console errors for: a single-objective study (pruned and failed
// trials, intermediate values, user attrs, a slider+text user-attr form), a two-objective
// study, a study with no trials, a dynamic search space, and a database written by Python
// Optuna (the HITL fixture). Screenshots of each page go to the build directory.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { launch, startBackend, startFixtureBackend, watchConsole, shotDir, root } from "./lib.mjs";

let backend, fixture, browser;
const ids = {};

function lcg(seed) {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
}

before(async () => {
  backend = await startBackend();
  const rnd = lcg(7);
  const f = (v) => Math.round(v * 1e6) / 1e6;

  ids.single = await backend.createStudy("single objective", ["minimize"]);
  const single = [];
  for (let i = 0; i < 40; i++) {
    const x = f(rnd() * 20 - 10), y = f(rnd() * 20 - 10);
    const v = f(x * x + y * y);
    const state = i === 5 ? "Fail" : i === 9 ? "Pruned" : "Complete";
    single.push({ state, params: { x, y }, values: state === "Complete" ? [v] : undefined, user_attrs: { loss: f(v / 3) }, intermediate: [[0, f(v + 10)], [1, f(v + 4)], [2, v]] });
  }
  single.push({ params: { x: 1.5, y: -2.25 }, png: [200, 120, 40], note: "## Running trial\n\nr=200\n\n![img]({path})\n" });
  await backend.addTrials(ids.single, single);
  await backend.registerForm(ids.single, {
    output_type: "user_attr",
    widgets: [
      { type: "slider", description: "How warm?", min: 0, max: 10, step: 1, labels: [{ value: 0, label: "cold" }, { value: 10, label: "hot" }], user_attr_key: "warmth" },
      { type: "text", description: "Comment", user_attr_key: "comment", optional: true },
    ],
  });

  ids.multi = await backend.createStudy("two objectives", ["minimize", "maximize"]);
  const multi = [];
  for (let i = 0; i < 40; i++) {
    const x = f(rnd() * 20 - 10), y = f(rnd() * 20 - 10);
    multi.push({ state: "Complete", params: { x, y }, values: [f(x * x + y), f(-(x - 2) * (x - 2) - y * y)] });
  }
  multi.push({ params: { x: 0.5, y: 0.5 }, png: [20, 160, 220] });
  await backend.addTrials(ids.multi, multi);
  await backend.registerForm(ids.multi, {
    output_type: "objective",
    widgets: [
      { type: "slider", description: "quality", min: 0, max: 5, step: 0.5, labels: null, user_attr_key: null },
      { type: "text", description: "cost", user_attr_key: null },
    ],
  });

  ids.empty = await backend.createStudy("no trials yet", ["maximize"]);

  ids.dynamic = await backend.createStudy("dynamic search space", ["minimize"]);
  const dyn = [];
  for (let i = 0; i < 30; i++) {
    const p = i % 3 === 0 ? { x: f(rnd() * 20 - 10) } : i % 3 === 1 ? { x: f(rnd() * 20 - 10), y: f(rnd() * 20 - 10) } : { z: f(rnd() * 20 - 10) };
    const v = Object.values(p).reduce((a, b) => a + b * b, 0);
    dyn.push({ state: "Complete", params: p, values: [f(v)] });
  }
  await backend.addTrials(ids.dynamic, dyn);

  fixture = await startFixtureBackend(path.join(root, "tests/data/fixtures/optuna-3.1-hitl.db"));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await backend?.close();
  await fixture?.close();
});

const PAGES = ["rate", "gallery", "trials", "table", "plots", "note"];

async function visit(page, url, name, { theme } = {}) {
  await page.goto(url);
  await page.locator("main .page, main .error, main .empty").first().waitFor({ timeout: 30000 });
  await page.waitForFunction(() => !document.querySelector("main .spinner"), null, { timeout: 90000 });
  // Scroll through so lazily drawn plots are drawn, then wait for every chart.
  await page.evaluate(async () => {
    for (let y = 0; y < document.body.scrollHeight; y += 500) {
      window.scrollTo(0, y);
      await new Promise((r) => setTimeout(r, 60));
    }
    window.scrollTo(0, 0);
  });
  try {
    await page.waitForFunction(() => [...document.querySelectorAll(".chart:not(.placeholder)")].every((c) => c.querySelector("canvas")), null, { timeout: 30000 });
  } catch (e) {
    // Name the charts still without a canvas (one run in many failed here without saying which).
    const stuck = await page.evaluate(() => [...document.querySelectorAll(".chart:not(.placeholder)")].filter((c) => !c.querySelector("canvas")).map((c) => `${c.getAttribute("aria-label")}: "${c.textContent.trim().slice(0, 80)}"`));
    await page.screenshot({ path: path.join(shotDir(), `${name}-stuck.png`), fullPage: true }).catch(() => {});
    throw new Error(`${url}: charts without a canvas after 30 s: ${stuck.join("; ")} (${e.message})`);
  }
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(shotDir(), `${name}${theme ? "-" + theme : ""}.png`), fullPage: true });
}

for (const kind of ["single", "multi", "empty", "dynamic"]) {
  test(`every page opens without console errors: ${kind}`, { timeout: 180000 }, async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    const errors = watchConsole(page);
    for (const p of PAGES) await visit(page, `${backend.url}/dashboard/studies/${ids[kind]}/${p}`, `${kind}-${p}`);
    assert.deepEqual(errors, []);
    await ctx.close();
  });
}

test("study list, compare and dark theme", { timeout: 120000 }, async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await ctx.addInitScript(() => localStorage.setItem("loupe.theme", "dark"));
  const page = await ctx.newPage();
  const errors = watchConsole(page);
  await visit(page, `${backend.url}/dashboard/`, "studies", { theme: "dark" });
  for (const name of ["single objective", "two objectives", "no trials yet", "dynamic search space"]) assert.ok(await page.getByText(name).count(), `${name} listed`);
  // Counts by state and best value are on the card.
  const card = page.locator(".study-card", { hasText: "single objective" });
  assert.match(await card.textContent(), /41\s*trials/);
  assert.match(await card.textContent(), /1 running/);
  assert.match(await card.textContent(), /best/);
  // Search filters by every token.
  await page.fill('input[type="search"]', "objective single");
  assert.equal(await page.locator(".study-card").count(), 1);
  await visit(page, `${backend.url}/dashboard/compare-studies?ids=${ids.single},${ids.dynamic}`, "compare", { theme: "dark" });
  await visit(page, `${backend.url}/dashboard/studies/${ids.multi}/plots`, "multi-plots", { theme: "dark" });
  await visit(page, `${backend.url}/dashboard/studies/${ids.single}/rate`, "single-rate", { theme: "dark" });
  assert.deepEqual(errors, []);
  await ctx.close();
});

test("tablet viewport", { timeout: 120000 }, async () => {
  const ctx = await browser.newContext({ viewport: { width: 820, height: 1180 }, hasTouch: true });
  const page = await ctx.newPage();
  const errors = watchConsole(page);
  for (const p of ["rate", "trials", "plots"]) await visit(page, `${backend.url}/dashboard/studies/${ids.multi}/${p}`, `tablet-${p}`);
  // Nothing overflows horizontally.
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1));
  assert.deepEqual(errors, []);
  await ctx.close();
});

test("a database written by Python Optuna (HITL fixture)", { timeout: 180000 }, async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  // The fixture has artifact metadata without a blob: its image answers 404 by design.
  const errors = watchConsole(page, [/Failed to load resource.*404/]);
  await visit(page, `${fixture.url}/dashboard/`, "fixture-studies");
  assert.ok(await page.getByText("Human-in-the-loop Optimization").count());
  for (const p of PAGES) await visit(page, `${fixture.url}/dashboard/studies/1/${p}`, `fixture-${p}`);
  // The rating queue offers trial 9 first, with its note and the emoji choices.
  await page.goto(`${fixture.url}/dashboard/studies/1/rate`);
  await page.locator(".rate-head h1").waitFor();
  assert.equal((await page.locator(".rate-head h1").textContent()).trim(), "Trial 9");
  assert.match(await page.locator(".stage-note").textContent(), /r=241, g=133, b=106/);
  assert.match(await page.locator(".rate-form").textContent(), /Good 👍/);
  assert.match(await page.locator(".progress").textContent(), /Rated\s*8/);
  // Best so far: trial 7 rated Good.
  assert.match(await page.locator(".progress").textContent(), /Good 👍\s*\(#7\)/);
  assert.deepEqual(errors, []);
  await ctx.close();
});
