// The study's own Plotly figures and the plot-colour setting, against `loupe dashboard`
// serving a SQLite file into which Python Optuna writes the figures:
// - figures render (one card each, titled, with their traces), a figure longer than one
//   storage chunk included; malformed ones show their error in their own card only;
// - HTML in titles, trace names, hover templates and annotation links runs no script;
// - figures added or overwritten from Python appear without a reload;
// - the palette setting recolours the ECharts History plot and the Plotly figures at
//   once, and survives a reload; the dark theme reaches the figures.
// optuna_dashboard (and plotly.py) are not installed next to Debian's python3-optuna, so the
// figures are written as save_plotly_graph_object() stores them: the figure's JSON in
// 2045-character chunks under study system attrs dashboard:plot_data:{id}:{i}, chunks left
// over from a longer earlier version blanked.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { launch, startBackend, useRealServer, watchConsole, shotDir } from "./lib.mjs";

const real = useRealServer();
let backend, browser, sid;

const WRITE_FIGURES = `
import optuna, json, sys
optuna.logging.set_verbosity(optuna.logging.WARNING)
storage = optuna.storages.RDBStorage('sqlite:///' + sys.argv[1])
sid = int(sys.argv[2])
CHUNK = 2045
for gid, text in json.loads(sys.argv[3]).items():
    prefix = 'dashboard:plot_data:%s:' % gid
    parts = [text[i:i + CHUNK] for i in range(0, len(text), CHUNK)]
    for i, part in enumerate(parts):
        storage.set_study_system_attr(sid, prefix + str(i), part)
    old = [k for k in storage.get_study_system_attrs(sid) if k.startswith(prefix)]
    for i in range(len(parts), len(old)):
        storage.set_study_system_attr(sid, prefix + str(i), '')
print(json.dumps(sorted(k for k in storage.get_study_system_attrs(sid) if k.startswith('dashboard:plot_data:'))))
`;

function saveFigures(figs) {
  const out = execFileSync(process.env.LOUPE_PYTHON ?? "/usr/bin/python3", ["-c", WRITE_FIGURES, backend.db, String(sid), JSON.stringify(figs)], { encoding: "utf8", timeout: 60000 });
  return JSON.parse(out.trim().split("\n").pop());
}

// A figure as plotly.py's fig.to_json() writes it: data, and a layout carrying its own
// (here shortened) template, which the dashboard replaces by the app's.
function figure(data, layout) {
  return JSON.stringify({ data, layout: { template: { layout: { paper_bgcolor: "white", plot_bgcolor: "#E5ECF6", font: { color: "#2a3f5f" } } }, ...layout } });
}

const xs = Array.from({ length: 300 }, (_, i) => i);
const LONG = figure(
  [
    { type: "scatter", mode: "markers", name: "Objective Value", x: xs, y: xs.map((i) => Math.round(1e6 * Math.sin(i / 7) * 100) / 1e6) },
    { type: "scatter", mode: "lines", name: "Best Value", x: xs, y: xs.map((i) => -i / 3) },
  ],
  { title: { text: "Optimization <b>History</b> (Python)" }, xaxis: { title: { text: "Trial" } } },
);
const HOSTILE = figure(
  [
    {
      type: "bar",
      name: '<img src=x onerror="window.__pwned=3">bars',
      x: ["a", "b", "c"],
      y: [3, 1, 2],
      hovertemplate: '<script>window.__pwned=2</script><img src=x onerror="window.__pwned=5">%{y}<extra></extra>',
    },
  ],
  {
    title: { text: '<img src=x onerror="window.__pwned=1">Hostile bars' },
    annotations: [{ text: '<a href="javascript:window.__pwned=4">click me</a>', x: "b", y: 2.5, showarrow: false }],
  },
);
// As optuna.visualization.plot_parallel_coordinate draws it: a WebGL trace.
const PARCOORDS = figure([{ type: "parcoords", dimensions: [{ label: "Objective Value", values: [3, 1, 2, 5] }, { label: "x", values: [0.5, -1, 2, 4] }], line: { color: [3, 1, 2, 5], colorscale: "Blues" } }], { title: { text: "Parallel Coordinate" } });
const BROKEN = '{"data": [{"type": "scatter", "x": [1, 2, 3], "y": [4';
const NOT_A_FIGURE = "[1, 2, 3]";

before(async () => {
  if (!real) return;
  backend = await startBackend();
  sid = await backend.createStudy("figures", ["minimize"]);
  const trials = [];
  for (let i = 0; i < 30; i++) trials.push({ state: "Complete", params: { x: (i % 10) - 5 + 0.5 }, values: [((i * 37) % 23) + 0.5] });
  await backend.addTrials(sid, trials);
  assert.ok(LONG.length > 2 * 2045, "the long figure spans several chunks");
  const keys = saveFigures({ "opt-history": LONG, "hostile.bars": HOSTILE, broken: BROKEN, "not:a-figure": NOT_A_FIGURE, parcoords: PARCOORDS });
  assert.ok(keys.includes("dashboard:plot_data:opt-history:2"), `several chunks stored: ${keys}`);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await backend?.close();
});

const card = (page, id) => page.locator(`section.user-figure[data-figure-id="${id}"]`);

async function openPlots(page) {
  await page.goto(`${backend.url}/dashboard/studies/${sid}/plots`);
  await page.locator("main .page.plots").waitFor({ timeout: 30000 });
  await page.waitForFunction(() => {
    const cards = [...document.querySelectorAll("section.user-figure")];
    return cards.length >= 5 && cards.every((c) => c.dataset.state !== "loading");
  }, null, { timeout: 60000 });
}

/** What the History plot's ECharts model coloured its first series with, and how many
 *  canvas pixels are near that colour (drawn at ECharts' 0.8 opacity on the panel). */
async function historyColour(page) {
  const chart = page.locator('#history .chart[role="img"]');
  await page.locator("#history").scrollIntoViewIfNeeded();
  await page.waitForFunction(() => document.querySelector("#history .chart")?.dataset.seriesColors, null, { timeout: 30000 });
  await page.waitForTimeout(300);
  return chart.evaluate((el) => {
    const colour = JSON.parse(el.dataset.seriesColors)[0];
    const probe = document.createElement("canvas").getContext("2d");
    probe.fillStyle = colour;
    probe.fillRect(0, 0, 1, 1);
    const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
    const bg = getComputedStyle(el.closest(".card")).backgroundColor.match(/\d+/g).map(Number);
    const mix = [r, g, b].map((c, i) => 0.8 * c + 0.2 * bg[i]);
    let near = 0;
    for (const cv of el.querySelectorAll("canvas")) {
      const d = cv.getContext("2d").getImageData(0, 0, cv.width, cv.height).data;
      for (let i = 0; i < d.length; i += 4) {
        const dist = Math.max(Math.abs(d[i] - mix[0]), Math.abs(d[i + 1] - mix[1]), Math.abs(d[i + 2] - mix[2]));
        const dist2 = Math.max(Math.abs(d[i] - r), Math.abs(d[i + 1] - g), Math.abs(d[i + 2] - b));
        if (Math.min(dist, dist2) <= 6) near++;
      }
    }
    return { colour: `rgb(${r}, ${g}, ${b})`, near };
  });
}

test("Plotly figures from Python render, errors stay in their card, nothing runs script", { skip: !real && "needs `loupe dashboard` (LOUPE_BIN): Python Optuna writes the figures into the SQLite file it serves", timeout: 180000 }, async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await ctx.addInitScript(() => localStorage.setItem("loupe.theme", "light"));
  const page = await ctx.newPage();
  const errors = watchConsole(page);
  await openPlots(page);

  // The long figure: titled from its layout (tags dropped), both traces drawn as SVG.
  const long = card(page, "opt-history");
  assert.equal(await long.getAttribute("data-state"), "ready");
  assert.equal((await long.locator("h2").textContent()).trim(), "Optimization History (Python)");
  assert.equal(await long.locator(".plotly-figure").getAttribute("data-traces"), "2");
  assert.equal(await long.locator("g.scatterlayer g.trace").count(), 2);
  assert.equal(await long.locator("g.scatterlayer g.trace path.point").count(), 300);
  const box = await long.locator(".plotly-figure").boundingBox();
  assert.ok(Math.abs(box.height - 450) <= 2, `450 px high, got ${box.height}`);
  // The app's template replaced the figure's own: panel background, not plotly.py's.
  const paper = await long.locator("svg.main-svg").first().evaluate((s) => getComputedStyle(s).backgroundColor);
  assert.equal(paper, "rgb(255, 255, 255)");
  // Default palette: the first trace in Plotly's colour #636efa.
  assert.match(await long.locator("g.scatterlayer g.trace path.point").first().getAttribute("style"), /fill: rgb\(99, 110, 250\)/);

  // The jump menu has one "figures" entry, for the first figure card.
  const jump = page.locator("nav.jump a", { hasText: /^figures$/ });
  assert.equal(await jump.count(), 1);
  const firstId = await page.locator("section.user-figure").first().getAttribute("id");
  assert.equal(await jump.getAttribute("href"), `#${firstId}`);

  // Malformed JSON and JSON that is not a figure: a clear error, in that card only.
  const broken = card(page, "broken");
  assert.equal(await broken.getAttribute("data-state"), "error");
  assert.equal((await broken.locator("h2").textContent()).trim(), "broken");
  assert.match(await broken.locator('[role="alert"]').textContent(), /Figure "broken" is not valid JSON \(.+\)\. Save the figure again from Python with save_plotly_graph_object/);
  assert.equal(await broken.locator(".plotly-figure").count(), 0);
  const notFig = card(page, "not:a-figure");
  assert.match(await notFig.locator('[role="alert"]').textContent(), /is JSON but not a Plotly figure: it needs a "data" list of traces/);

  // Hostile HTML: drawn as a bar chart, no element from the markup, no script ran.
  const hostile = card(page, "hostile.bars");
  assert.equal(await hostile.getAttribute("data-state"), "ready");
  assert.equal((await hostile.locator("h2").textContent()).trim(), "Hostile bars");
  assert.equal(await hostile.locator("g.barlayer g.point").count(), 3);
  // Hover the first bar: Plotly draws the hover template (with its hostile markup).
  await hostile.scrollIntoViewIfNeeded();
  const bar = await hostile.locator("g.barlayer g.point path").first().boundingBox();
  await page.mouse.move(bar.x + bar.width / 2, bar.y + bar.height / 2);
  await hostile.locator("g.hovertext").first().waitFor({ timeout: 10000 });
  assert.match(await hostile.locator("g.hovertext").first().textContent(), /3/);
  // The annotation's text is drawn; a link survives only without its javascript: URL.
  assert.match(await hostile.locator("g.annotation").first().textContent(), /click me/);
  const links = hostile.locator("g.annotation a");
  for (let i = 0; i < (await links.count()); i++) {
    assert.doesNotMatch(await links.nth(i).evaluate((a) => a.getAttribute("href") ?? a.getAttribute("xlink:href") ?? ""), /javascript:/i);
    await links.nth(i).click({ force: true });
  }
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(await page.locator("section.user-figure img, section.user-figure script").count(), 0);

  // A WebGL trace draws under the page's CSP (no 'unsafe-eval': Plotly's strict bundle),
  // where this Chromium has WebGL at all.
  const csp = (await fetch(`${backend.url}/dashboard/`)).headers.get("content-security-policy");
  assert.match(csp, /script-src 'self';/);
  assert.doesNotMatch(csp, /unsafe-eval/);
  const pc = card(page, "parcoords");
  assert.equal(await pc.getAttribute("data-state"), "ready");
  if (await page.evaluate(() => !!document.createElement("canvas").getContext("webgl"))) {
    assert.doesNotMatch(await pc.textContent(), /WebGL is not supported/);
    assert.ok((await pc.locator("canvas.gl-canvas").count()) > 0, "parcoords drew on WebGL canvases");
    assert.match(await pc.textContent(), /Objective Value/);
  } else console.log("# parcoords: this Chromium has no WebGL; its drawing is not checked");

  // The rest of the page is unaffected.
  await page.locator("#history canvas").first().waitFor();
  await page.screenshot({ path: path.join(shotDir(), "figures-light.png"), fullPage: true });

  // Live: overwrite the long figure with a one-chunk one (its old chunks blanked), change
  // the hostile one, add a new one; the page follows without a reload.
  saveFigures({
    "opt-history": figure([{ type: "scatter", mode: "lines+markers", name: "v2", x: [1, 2, 3], y: [3, 1, 2] }], { title: "History v2" }),
    "hostile.bars": figure([1, 2, 3].map((k) => ({ type: "bar", name: `s${k}`, x: ["a", "b"], y: [k, k + 1] })), { title: { text: "Three series" } }),
    late: figure([{ type: "scatter", mode: "markers", x: [0, 1], y: [1, 0] }], {}),
    broken: figure([{ type: "scatter", mode: "markers", x: [0, 1], y: [0, 1] }], { title: { text: "Fixed" } }),
  });
  await page.waitForFunction(() => document.querySelector('section.user-figure[data-figure-id="late"]')?.dataset.state === "ready", null, { timeout: 30000 });
  await page.waitForFunction(() => document.querySelector('section.user-figure[data-figure-id="hostile.bars"] .plotly-figure')?.dataset.traces === "3", null, { timeout: 30000 });
  assert.equal((await card(page, "late").locator("h2").textContent()).trim(), "late", "untitled: the id");
  assert.equal((await long.locator("h2").textContent()).trim(), "History v2");
  assert.equal(await long.locator("g.scatterlayer g.trace").count(), 1);
  assert.equal((await card(page, "hostile.bars").locator("h2").textContent()).trim(), "Three series");
  // A broken figure saved again correctly is drawn; the other bad one still says why not.
  await page.waitForFunction(() => document.querySelector('section.user-figure[data-figure-id="broken"]')?.dataset.state === "ready", null, { timeout: 30000 });
  assert.equal((await card(page, "broken").locator("h2").textContent()).trim(), "Fixed");
  assert.equal(await card(page, "broken").locator('[role="alert"]').count(), 0);
  assert.equal(await card(page, "not:a-figure").getAttribute("data-state"), "error");
  assert.deepEqual(errors, []);
  await ctx.close();
});

test("plot colours: recolour ECharts and Plotly live, persist across reload; dark theme reaches the figures", { skip: !real && "needs `loupe dashboard` (LOUPE_BIN)", timeout: 180000 }, async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await ctx.addInitScript(() => localStorage.getItem("loupe.theme") || localStorage.setItem("loupe.theme", "light"));
  saveFigures({ palette: figure([{ type: "scatter", mode: "markers", x: [0, 1, 2], y: [1, 0, 2] }], { title: "Palette" }) });
  const page = await ctx.newPage();
  const errors = watchConsole(page);
  await openPlots(page);

  const before = await historyColour(page);
  assert.equal(before.colour, "rgb(99, 110, 250)", "Default palette: Plotly's first colour");
  assert.ok(before.near > 50, `history markers drawn in it (${before.near} pixels)`);

  // Settings → Plot colours → GGPlot2, without a reload.
  await page.getByRole("button", { name: "Settings" }).click();
  const select = page.getByLabel("Plot colours");
  assert.deepEqual(await select.locator("option").allTextContents(), ["Default", "Seaborn", "Presentation", "GGPlot2"]);
  await select.selectOption("ggplot2");
  await page.getByRole("button", { name: "Done" }).click();
  await page.waitForFunction(() => JSON.parse(document.querySelector("#history .chart")?.dataset.seriesColors ?? "[]")[0] === "#F8766D", null, { timeout: 10000 });
  const after1 = await historyColour(page);
  assert.equal(after1.colour, "rgb(248, 118, 109)");
  assert.ok(after1.near > 50, `history redrawn in GGPlot2's first colour (${after1.near} pixels)`);
  const fig = card(page, "palette");
  await page.waitForFunction(() => /248, 118, 109/.test(document.querySelector('section.user-figure[data-figure-id="palette"] path.point')?.getAttribute("style") ?? ""), null, { timeout: 10000 });
  // GGPlot2's grey panel behind the figure's plot area.
  assert.match(await fig.locator("rect.bg").first().getAttribute("style"), /fill: rgb\(237, 237, 237\)/);

  // Persisted: after a reload the setting and the colours are still GGPlot2.
  await page.reload();
  await openPlots(page);
  assert.equal(await page.evaluate(() => localStorage.getItem("loupe.palette")), "ggplot2");
  assert.equal((await historyColour(page)).colour, "rgb(248, 118, 109)");
  await page.getByRole("button", { name: "Settings" }).click();
  assert.equal(await page.getByLabel("Plot colours").inputValue(), "ggplot2");
  await page.getByRole("button", { name: "Done" }).click();

  // Dark theme: the figure's paper and text follow the app's dark panel and text colours.
  await page.getByRole("button", { name: "Use dark theme" }).click();
  await page.waitForFunction(() => getComputedStyle(document.querySelector('section.user-figure[data-figure-id="palette"] svg.main-svg')).backgroundColor === "rgb(23, 26, 33)", null, { timeout: 10000 });
  const tick = await fig.locator("g.xtick text").first().evaluate((t) => getComputedStyle(t).fill);
  assert.equal(tick, "rgb(230, 232, 235)");
  // The dark theme keeps its own plot area (no light-grey GGPlot2 panel).
  assert.equal(await fig.locator("svg.main-svg").first().evaluate((s) => [...s.querySelectorAll("rect.bg")].filter((r) => /237, 237, 237/.test(r.getAttribute("style") ?? "")).length), 0);
  await page.screenshot({ path: path.join(shotDir(), "figures-dark-ggplot2.png"), fullPage: true });
  assert.deepEqual(errors, []);
  await ctx.close();
});
