// Types for the part of Plotly's "strict" bundle (plotly.js-strict-dist-min, which ships
// none) that UserFigures.tsx uses. The figures are untrusted JSON, so their shape is
// checked at run time, not typed.
declare module "plotly.js-strict-dist-min" {
  interface PlotlyStrict {
    react(root: HTMLElement, data: unknown[], layout?: Record<string, unknown>, config?: Record<string, unknown>): Promise<HTMLElement>;
    purge(root: HTMLElement): void;
  }
  const Plotly: PlotlyStrict;
  export default Plotly;
}
