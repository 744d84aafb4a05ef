// The study's own Plotly figures (saved from Python with optuna_dashboard's
// save_plotly_graph_object): one card each on the Plots page, drawn by Plotly with the
// app's theme and plot palette. Plotly (~1.5 MB gzipped) is imported only when a study
// has such a figure. Its "strict" bundle is used: the same plotly.js without code
// generated at run time, so WebGL traces (scattergl, parcoords, splom) draw under the
// page's Content-Security-Policy, which allows no 'unsafe-eval'. A figure's JSON is untrusted: whatever is wrong with it is shown
// in its own card and never breaks the page.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { palette, usePalette } from "../../lib/palette";

type PlotlyLib = typeof import("plotly.js-strict-dist-min").default;

let lib: Promise<PlotlyLib> | null = null;
function loadPlotly(): Promise<PlotlyLib> {
  if (!lib) {
    lib = import("plotly.js-strict-dist-min").then((m: any) => m.default ?? m);
    lib.catch(() => (lib = null)); // a failed download may be retried by the next card
  }
  return lib;
}

export interface GraphObject {
  id: string;
  graph_object: string;
}

type Parsed = { ok: true; data: any[]; layout: Record<string, any>; title: string } | { ok: false; title: string; error: string };

const FIX = "Save the figure again from Python with save_plotly_graph_object(study, fig).";

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

/** Plain text of a Plotly title (which may hold <b>, <br> and entities), or "". Done on
 *  the string: handing hostile markup to an HTML parser, even an inert one, is avoided. */
function plainTitle(layout: Record<string, any>): string {
  const t = layout.title;
  const raw = typeof t === "string" ? t : t && typeof t === "object" && typeof t.text === "string" ? t.text : "";
  return raw
    .replace(/<br\s*\/?>/gi, " ")
    .replace(/<[^>]*>?/g, "")
    .replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m: string, e: string) => {
      if (e[0] !== "#") return ENTITIES[e.toLowerCase()] ?? m;
      const n = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : Number(e.slice(1));
      return n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : m;
    })
    .replace(/\s+/g, " ")
    .trim();
}

export function parseFigure(g: GraphObject): Parsed {
  let fig: any;
  try {
    fig = JSON.parse(g.graph_object);
  } catch (e) {
    return { ok: false, title: g.id, error: `Figure "${g.id}" is not valid JSON (${(e as Error).message}). ${FIX}` };
  }
  if (!fig || typeof fig !== "object" || Array.isArray(fig) || !Array.isArray(fig.data))
    return { ok: false, title: g.id, error: `Figure "${g.id}" is JSON but not a Plotly figure: it needs a "data" list of traces, as fig.to_json() writes. ${FIX}` };
  const layout = fig.layout && typeof fig.layout === "object" && !Array.isArray(fig.layout) ? fig.layout : {};
  return { ok: true, data: fig.data, layout, title: plainTitle(layout) || g.id };
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** The template the figure is drawn with: the app's theme and the plot palette. It
 *  replaces the figure's own template (plotly.py embeds its default one in every
 *  figure); colours set explicitly in the figure still win. */
function template(dark: boolean) {
  const p = palette();
  const panel = cssVar("--panel") || (dark ? "#171a21" : "#ffffff");
  const text = cssVar("--text") || (dark ? "#e6e8eb" : "#1b1f24");
  const border = cssVar("--border") || (dark ? "#2c323c" : "#d8dde3");
  const greyPanel = !dark && p.panelLight;
  const axis = { gridcolor: greyPanel ? "white" : border, linecolor: greyPanel ? "white" : border, zerolinecolor: greyPanel ? "white" : border, automargin: true };
  const bigger = p.lineWidth ? [{ line: { width: p.lineWidth }, marker: { size: p.markerSize } }] : undefined;
  return {
    layout: {
      colorway: p.colorway,
      paper_bgcolor: panel,
      plot_bgcolor: greyPanel || panel,
      font: { color: text, size: p.fontSize ?? 12 },
      xaxis: axis,
      yaxis: axis,
      legend: { bgcolor: "rgba(0,0,0,0)" },
      hoverlabel: { align: "left" },
      margin: { l: 60, r: 24, t: 24, b: 48 },
    },
    data: bigger ? { scatter: bigger, scattergl: bigger } : {},
  };
}

function useDark(): boolean {
  const get = () => document.documentElement.dataset.theme === "dark";
  const [dark, setDark] = useState(get());
  useEffect(() => {
    const mo = new MutationObserver(() => setDark(get()));
    mo.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    return () => mo.disconnect();
  }, []);
  return dark;
}

function FigureCard({ g }: { g: GraphObject }) {
  const parsed = useMemo(() => parseFigure(g), [g.graph_object, g.id]);
  const dark = useDark();
  const pal = usePalette();
  const el = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<"loading" | "ready" | "error">("loading");
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!parsed.ok) return;
    let stale = false;
    const fail = (what: string, e: unknown) => {
      if (stale) return;
      setError(`${what}: ${e instanceof Error ? e.message : String(e)}`);
      setState("error");
    };
    loadPlotly().then(
      async (P) => {
        if (stale || !el.current) return;
        const { width: _w, height: _h, template: _t, title, ...rest } = parsed.layout;
        // The card's heading shows the title, so the plot does not repeat it.
        const layout = { ...rest, title: title && typeof title === "object" ? { ...title, text: "" } : { text: "" }, template: template(dark), autosize: true };
        try {
          await P.react(el.current, parsed.data, layout, { responsive: true, displaylogo: false });
          if (stale) return;
          // What Plotly took in, for tests.
          el.current?.setAttribute("data-traces", String(((el.current as any)?.data ?? []).length));
          setError(null);
          setState("ready");
        } catch (e) {
          // Map traces fetch their outlines from Plotly's CDN, which connect-src 'self' forbids.
          const offline = /topojson/i.test(String((e as Error)?.message ?? e)) ? " (map figures need Plotly's map files from the internet, which the dashboard does not load)" : "";
          fail(`Plotly could not draw figure "${g.id}"${offline}`, e);
        }
      },
      (e) => fail("Loading Plotly failed (reload the page to retry)", e),
    );
    return () => {
      stale = true;
    };
  }, [parsed, dark, pal]);

  // Plotly's listeners and WebGL contexts go with the plot: when the card unmounts, or
  // when an overwritten figure turns out broken and its plot is removed.
  useEffect(() => {
    const node = el.current;
    return () => {
      if (node && lib) void lib.then((P) => P.purge(node)).catch(() => {});
    };
  }, [parsed.ok]);

  const msg = parsed.ok ? error : parsed.error;
  const hid = `figure-${g.id}-h`;
  return (
    <section class="card plot-card user-figure" aria-labelledby={hid} id={`figure-${g.id}`} data-figure-id={g.id} data-state={parsed.ok ? state : "error"}>
      <h2 id={hid}>{parsed.title}</h2>
      {msg && (
        <p class="error" role="alert">
          {msg}
        </p>
      )}
      {parsed.ok && (
        <div class="figure-box" style={{ height: "450px" }}>
          <div class="plotly-figure" role="img" aria-label={`Plotly figure ${parsed.title}`} ref={el} style={{ height: "100%" }} />
          {state === "loading" && <span class="muted chart-loading">Loading plot…</span>}
        </div>
      )}
    </section>
  );
}

/** One card per saved figure, in the server's order; nothing when there are none. */
export function UserFigures({ figures }: { figures: GraphObject[] | undefined }) {
  if (!figures || figures.length === 0) return null;
  return (
    <>
      {figures.map((g) => (
        <FigureCard key={g.id} g={g} />
      ))}
    </>
  );
}
