// Loops rate -> other page navigations in one tab to reproduce the "stuck page" bug.
import path from "node:path";
import { launch, startBackend, watchConsole } from "../../tests/browser/lib.mjs";
const N = Number(process.argv[2] ?? 20);
const PAGES = (process.argv[3] ?? "rate,gallery,trials,table,plots,note").split(",");
const backend = await startBackend();
const id = await backend.createStudy("s", ["minimize"]);
const specs = [];
for (let i = 0; i < 40; i++) specs.push({ state: "Complete", params: { x: i / 10 + 0.05, y: 1.5 }, values: [i], user_attrs: { loss: i }, intermediate: [[0, i + 1]] });
specs.push({ params: { x: 1.5, y: -2.25 }, png: [200, 120, 40], note: "## Running\n\n![img]({path})\n" });
await backend.addTrials(id, specs);
await backend.registerForm(id, { output_type: "user_attr", widgets: [{ type: "slider", description: "w", min: 0, max: 10, step: 1, labels: null, user_attr_key: "warmth" }] });
const browser = await launch();
let stuck = 0;
for (let i = 0; i < N; i++) {
const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await ctx.newPage();
if (process.env.DELAY) await page.route(/\/(assets\/.*\.js|api\/.*)$/, async (route) => {
  await new Promise((r) => setTimeout(r, Math.random() * Number(process.env.DELAY)));
  await route.continue();
});
const cdp = await ctx.newCDPSession(page);
await cdp.send("Network.enable");
if (process.env.THROTTLE) await cdp.send("Emulation.setCPUThrottlingRate", { rate: Number(process.env.THROTTLE) });
const pending = new Map();
cdp.on("Network.requestWillBeSent", (e) => pending.set(e.requestId, { url: e.request.url, t: Date.now() }));
cdp.on("Network.loadingFinished", (e) => pending.delete(e.requestId));
cdp.on("Network.loadingFailed", (e) => pending.delete(e.requestId));
const log = [];
page.on("console", (m) => log.push(`${m.type()}: ${m.text()}`));
page.on("pageerror", (e) => log.push(`pageerror: ${e.message}`));
  for (const p of PAGES) {
    const t0 = Date.now();
    await page.goto(`${backend.url}/dashboard/studies/${id}/${p}`);
    try {
      await page.locator("main .page, main .error, main .empty").first().waitFor({ timeout: 10000 });
    } catch {
      stuck++;
      console.log(`STUCK iter ${i} page ${p} after ${Date.now() - t0} ms`);
      console.log(" pending:", [...pending.values()].map((r) => `${r.url} (${Date.now() - r.t} ms)`).join("\n   "));
      console.log(" main:", (await page.evaluate(() => document.querySelector("main")?.outerHTML ?? document.body.outerHTML)).slice(0, 600));
      console.log(" console:", log.slice(-10).join("\n   "));
      await page.screenshot({ path: `/tmp/webrepro/stuck-${i}-${p}.png` });
    }
  }
  await ctx.close();
  if (i % 5 === 4) console.log(`iter ${i + 1}: stuck ${stuck}`);
}
console.log(`done: ${N} iterations x ${PAGES.length} pages, stuck ${stuck}`);
await browser.close();
await backend.close();
