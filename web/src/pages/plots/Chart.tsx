// A chart box: loads ECharts on first use (dynamic import), draws the option it is given,
// follows the theme and the box size, and reports clicks and parallel-axis brushing.
import { useEffect, useRef, useState } from "preact/hooks";
import type { ECharts } from "./echarts";
import { usePalette, withPalette } from "../../lib/palette";

let lib: Promise<typeof import("./echarts")> | null = null;
export function loadECharts(): Promise<typeof import("./echarts")> {
  if (!lib) lib = import("./echarts");
  return lib;
}

interface Props {
  option: any | null;
  height?: number;
  onClickNumber?: (n: number) => void;
  onBrush?: (indices: number[] | null) => void;
  label: string;
}

function theme(): "dark" | "light" {
  return document.documentElement.dataset.theme === "dark" ? "dark" : "light";
}

/** A chart whose option is built only when it is mounted (the card is on screen), once
 *  per change of `deps`; `build` may return a promise (the contour loads d3-contour). */
export function LazyChart(p: Omit<Props, "option"> & { build: () => any; deps: unknown[]; empty?: string }) {
  const [option, setOption] = useState<any>(undefined);
  // Builders may take series colours from the palette: rebuild when it changes.
  const pal = usePalette();
  useEffect(() => {
    let stale = false;
    const r = p.build();
    if (r && typeof r.then === "function") void r.then((o: any) => !stale && setOption(o));
    else setOption(r);
    return () => {
      stale = true;
    };
  }, [...p.deps, pal]);
  if (option === null) return <div class="empty">{p.empty ?? "Nothing to plot yet."}</div>;
  return <Chart {...p} option={option ?? null} />;
}

export function Chart(p: Props) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<ECharts | null>(null);
  const [th, setTh] = useState(theme());
  const [ready, setReady] = useState(false);
  const pal = usePalette();
  const cb = useRef(p);
  cb.current = p;

  useEffect(() => {
    const mo = new MutationObserver(() => setTh(theme()));
    mo.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    return () => mo.disconnect();
  }, []);

  useEffect(() => {
    let disposed = false;
    let ro: ResizeObserver | null = null;
    void loadECharts().then(({ echarts }) => {
      if (disposed || !el.current) return;
      const c = echarts.init(el.current, th === "dark" ? "dark" : undefined, { renderer: "canvas" });
      chart.current = c;
      c.on("click", (e: any) => {
        const n = Array.isArray(e.data) ? e.data[e.data.length - 1] : e.data?.number ?? e.data?.value?.[e.data.value.length - 1];
        if (typeof n === "number") cb.current.onClickNumber?.(n);
      });
      c.on("axisareaselected", () => {
        const series = (c as any).getModel().getSeries()[0];
        const active: number[] = series.getRawIndicesByActiveState("active");
        const total = series.getData().count();
        cb.current.onBrush?.(active.length < total ? active : null);
      });
      // The colours ECharts gave each series (palette or explicit), for tests.
      c.on("finished", () => {
        const series: any[] = (c as any).getModel()?.getSeries() ?? [];
        el.current?.setAttribute("data-series-colors", JSON.stringify(series.map((s) => s.getData().getVisual("style")?.fill ?? null)));
      });
      ro = new ResizeObserver(() => c.resize());
      ro.observe(el.current);
      setReady(true);
    });
    return () => {
      disposed = true;
      ro?.disconnect();
      chart.current?.dispose();
      chart.current = null;
      setReady(false);
    };
  }, [th]);

  useEffect(() => {
    if (!chart.current || !p.option) return;
    chart.current.setOption(withPalette({ backgroundColor: "transparent", animation: false, ...p.option }, th === "dark"), { notMerge: true, lazyUpdate: true });
    // How many points are drawn, for tests and benchmarks.
    const n = (p.option.series ?? []).reduce((a: number, s: any) => a + (s.type !== "scatter" ? 0 : Array.isArray(s.data) ? s.data.length : ArrayBuffer.isView(s.data) ? (s.data as Float64Array).length / (s.dimensions?.length ?? 1) : 0), 0);
    el.current?.setAttribute("data-points", String(n));
  }, [ready, p.option, pal]);

  return (
    <div class="chart" role="img" aria-label={p.label} ref={el} style={{ height: `${p.height ?? 380}px` }}>
      {!ready && <span class="muted chart-loading">Loading plot…</span>}
    </div>
  );
}
