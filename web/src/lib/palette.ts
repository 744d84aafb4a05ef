// Plot colour palettes (upstream's "Plotly Color Scales" setting): the series colours
// (colorway) of every ECharts plot and of the user's Plotly figures, plus the look that
// goes with each (a grey panel for Seaborn and GGPlot2 in the light theme, bigger text
// and lines for Presentation). One choice for both themes, kept in localStorage.
import { Listeners, useListened } from "./listeners";

export type PaletteId = "default" | "seaborn" | "presentation" | "ggplot2";

export interface Palette {
  label: string;
  /** Series colours, in order. */
  colorway: string[];
  /** Plot-area background in the light theme (the dark theme keeps its own). */
  panelLight?: string;
  /** Text size of the plots, px (the app's plots use 12). */
  fontSize?: number;
  /** Line width and marker size of line/scatter traces in Plotly figures. */
  lineWidth?: number;
  markerSize?: number;
}

// Colour values as in Plotly's templates of the same names (plotly.py template
// definitions, which upstream's dashboard also uses).
const PLOTLY = ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692", "#B6E880", "#FF97FF", "#FECB52"];
const D3 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

export const PALETTES: Record<PaletteId, Palette> = {
  default: { label: "Default", colorway: PLOTLY },
  seaborn: {
    label: "Seaborn",
    colorway: ["rgb(76,114,176)", "rgb(221,132,82)", "rgb(85,168,104)", "rgb(196,78,82)", "rgb(129,114,179)", "rgb(147,120,96)", "rgb(218,139,195)", "rgb(140,140,140)", "rgb(204,185,116)", "rgb(100,181,205)"],
    panelLight: "rgb(234,234,242)",
  },
  // Plotly's "presentation" template sets no colorway: Plotly's built-in one (D3) applies.
  presentation: { label: "Presentation", colorway: D3, fontSize: 16, lineWidth: 3, markerSize: 9 },
  ggplot2: { label: "GGPlot2", colorway: ["#F8766D", "#A3A500", "#00BF7D", "#00B0F6", "#E76BF3"], panelLight: "rgb(237,237,237)" },
};

const KEY = "loupe.palette";
const listeners = new Listeners();

function stored(): PaletteId {
  try {
    const v = localStorage.getItem(KEY);
    if (v && v in PALETTES) return v as PaletteId;
  } catch {
    /* storage disabled: the default */
  }
  return "default";
}

let current: PaletteId = stored();

export function paletteId(): PaletteId {
  return current;
}

export function palette(): Palette {
  return PALETTES[current];
}

/** The i-th series colour of the current palette (wraps around). */
export function seriesColor(i: number): string {
  const c = PALETTES[current].colorway;
  return c[i % c.length];
}

export function setPalette(id: PaletteId): void {
  if (!(id in PALETTES) || id === current) return;
  current = id;
  try {
    localStorage.setItem(KEY, id);
  } catch {
    /* not persisted; still applied for this page */
  }
  listeners.notify();
}

/** The current palette id; re-renders the caller when the setting changes. */
export function usePalette(): PaletteId {
  return useListened(listeners, () => current);
}

// Another tab changed the setting: follow it.
window.addEventListener("storage", (e) => {
  if (e.key !== KEY) return;
  const next = stored();
  if (next !== current) {
    current = next;
    listeners.notify();
  }
});

/** An ECharts option with the current palette applied: series colours, and the panel
 *  background and text size that go with it. The option's own settings win. */
export function withPalette(option: any, dark: boolean): any {
  const p = PALETTES[current];
  const out: any = { color: p.colorway, ...option };
  if (p.fontSize) {
    const size = p.fontSize;
    out.textStyle = { fontSize: size, ...(option.textStyle ?? {}) };
    // Axis labels and names do not inherit the global text size.
    const axis = (a: any) => (a ? { ...a, axisLabel: { fontSize: size - 2, ...(a.axisLabel ?? {}) }, nameTextStyle: { fontSize: size - 2, ...(a.nameTextStyle ?? {}) } } : a);
    for (const k of ["xAxis", "yAxis"]) if (option[k]) out[k] = Array.isArray(option[k]) ? option[k].map(axis) : axis(option[k]);
  }
  if (p.panelLight && !dark && option.xAxis && option.grid && !Array.isArray(option.grid))
    out.grid = { show: true, backgroundColor: p.panelLight, borderWidth: 0, ...option.grid };
  else if (p.panelLight && !dark && option.xAxis && !option.grid) out.grid = { show: true, backgroundColor: p.panelLight, borderWidth: 0 };
  return out;
}
