// Regression test for "the next page sometimes never renders" (a page stayed at "Loading
// study…" although the study had arrived): a component subscribed to the store in an effect,
// which Preact runs a frame after the render (35 ms, more on a busy machine), and a change
// announced in between was lost. Here frames are slowed to 300 ms and the study's data is
// released the moment a page has rendered without it, i.e. inside that window, every time.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, startBackend, watchConsole } from "./lib.mjs";

let backend, browser, id;

before(async () => {
  backend = await startBackend();
  id = await backend.createStudy("race", ["minimize"]);
  const specs = [];
  for (let i = 0; i < 20; i++) specs.push({ state: "Complete", params: { x: i / 10 + 0.05 }, values: [i] });
  specs.push({ params: { x: 0.25 }, png: [10, 200, 30] });
  await backend.addTrials(id, specs);
  await backend.registerForm(id, { output_type: "objective", widgets: [{ type: "choice", description: "score", choices: ["Good", "Bad"], values: [0, 1], user_attr_key: null }] });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await backend?.close();
});

// Other work of the page (a parallel request, a lazy chunk) sometimes re-renders it anyway,
// hiding the bug: each page is loaded three times (without the fix, about one load in
// six stayed at "Loading study…").
for (const p of ["rate", "gallery", "trials", "table", "plots", "note"].flatMap((x) => [x, x, x])) {
  test(`data arriving between a page's render and its subscription is shown: ${p}`, { timeout: 60000 }, async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await ctx.addInitScript(() => {
      const st = window.setTimeout, raf = window.requestAnimationFrame;
      window.setTimeout = (f, ms, ...a) => st(f, ms === 35 ? 300 : ms, ...a);
      window.requestAnimationFrame = (f) => raf(() => st(() => raf(f), 300));
      // Tell the test when the page component has rendered without the study.
      new MutationObserver(() => {
        if (/Loading study/.test(document.querySelector("main")?.textContent ?? "")) window.__waiting?.();
      }).observe(document, { subtree: true, childList: true, characterData: true });
    });
    const page = await ctx.newPage();
    const errors = watchConsole(page);
    let release;
    const waiting = new Promise((r) => (release = r));
    await page.exposeFunction("__waiting", () => release());
    let held = 0;
    await page.route(new RegExp(`/api/studies/${id}(/compact)?$`), async (route) => {
      held++;
      await Promise.race([waiting, new Promise((r) => setTimeout(r, 10000))]);
      await route.continue();
    });
    // No live stream: its catch-up would announce another change and hide the lost one.
    await page.route(/\/api\/events/, (route) => route.abort());
    await page.goto(`${backend.url}/dashboard/studies/${id}/${p}`);
    await page.locator("main .page, main .error, main .empty").first().waitFor({ timeout: 15000 });
    assert.ok(held >= 1, "the study request was held");
    assert.deepEqual(errors.filter((e) => !/api\/events|ERR_FAILED/.test(e)), []);
    await ctx.close();
  });
}
