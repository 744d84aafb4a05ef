// Entry point: theme, the app shell (header, study navigation, live status, toasts) and
// the routes under dashboard/. Pages other than the study list load on first use.
import { render } from "preact";
import type { ComponentChildren } from "preact";
import { lazy, Suspense } from "preact/compat";
import { useEffect, useState } from "preact/hooks";
import "./styles.css";
import { installLinkInterceptor, navigate, useLocation } from "./lib/router";
import { useLiveStatus, useStudy } from "./lib/store";
import { dismiss, useToasts } from "./lib/toast";
import { setUndoWindowMs, undoWindowMs } from "./lib/ratings";
import { Link, Modal, Spinner } from "./components/ui";
import { PALETTES, setPalette, usePalette, type PaletteId } from "./lib/palette";
import { StudyList } from "./pages/studies/StudyList";
import { RatingQueue } from "./pages/rate/RatingQueue";

const Gallery = lazy(() => import("./pages/gallery/Gallery").then((m) => ({ default: m.Gallery })));
const Trials = lazy(() => import("./pages/trials/Trials").then((m) => ({ default: m.Trials })));
const Table = lazy(() => import("./pages/table/Table").then((m) => ({ default: m.Table })));
const loadPlots = () => import("./pages/plots/Plots");
const Plots = lazy(() => loadPlots().then((m) => ({ default: m.Plots })));
const NotePage = lazy(() => import("./pages/note/NotePage").then((m) => ({ default: m.NotePage })));
const Compare = lazy(() => import("./pages/compare/Compare").then((m) => ({ default: m.Compare })));

// Opened on the plots page: fetch its code, the plotting library (the largest chunk) and the
// importances now, alongside the study's data, not one after the other once it has rendered.
const plotsRoute = /\/studies\/(\d+)\/plots\/?$/.exec(window.location.pathname);
if (plotsRoute) {
  void loadPlots().then((m) => m.prefetchImportances(Number(plotsRoute[1])));
  void import("./pages/plots/echarts");
}

// ---- theme ---------------------------------------------------------------------------

type Theme = "light" | "dark";
function initialTheme(): Theme {
  const t = localStorage.getItem("loupe.theme");
  if (t === "light" || t === "dark") return t;
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}
function applyTheme(t: Theme): void {
  document.documentElement.dataset.theme = t;
}
applyTheme(initialTheme());

// ---- shell ---------------------------------------------------------------------------

const STUDY_PAGES: [string, string][] = [
  ["rate", "Rate"],
  ["gallery", "Gallery"],
  ["trials", "Trials"],
  ["table", "Table"],
  ["plots", "Plots"],
  ["note", "Note"],
];

function LiveDot() {
  const s = useLiveStatus();
  const label = s === "live" ? "Live" : s === "connecting" ? "Connecting…" : "Reconnecting…";
  return (
    <span class={`live ${s}`} role="status" aria-live="polite" title={s === "live" ? "Changes appear as they happen" : "The server is not reachable; retrying"}>
      <span class="dot" aria-hidden="true" />
      {label}
    </span>
  );
}

function Settings({ onClose, theme, setTheme }: { onClose: () => void; theme: Theme; setTheme: (t: Theme) => void }) {
  const [ms, setMs] = useState(undoWindowMs());
  const pal = usePalette();
  return (
    <Modal title="Settings" onClose={onClose} actions={<button class="primary" onClick={onClose}>Done</button>}>
      <label class="field">
        <span>Undo window after a rating: {(ms / 1000).toFixed(1)} s</span>
        <input
          type="range"
          min={0}
          max={10000}
          step={500}
          value={ms}
          onInput={(e) => {
            const v = Number((e.currentTarget as HTMLInputElement).value);
            setMs(v);
            setUndoWindowMs(v);
          }}
        />
        <small class="muted">
          A finished trial cannot be re-opened, so a rating waits this long before it is sent; press U to take it back. 0 sends at once (no undo).
        </small>
      </label>
      <label class="field inline">
        <input type="checkbox" checked={theme === "dark"} onChange={(e) => setTheme((e.currentTarget as HTMLInputElement).checked ? "dark" : "light")} />
        <span>Dark theme</span>
      </label>
      <label class="field">
        <span>Plot colours</span>
        <select value={pal} onChange={(e) => setPalette((e.currentTarget as HTMLSelectElement).value as PaletteId)}>
          {(Object.keys(PALETTES) as PaletteId[]).map((k) => (
            <option value={k}>{PALETTES[k].label}</option>
          ))}
        </select>
        <small class="muted">Series colours of every plot and of the study's own Plotly figures, as Plotly's templates of the same names.</small>
      </label>
    </Modal>
  );
}

function Toasts() {
  const ts = useToasts();
  return (
    <div class="toasts" aria-live="polite">
      {ts.map((t) => (
        <div class={`toast ${t.kind}`} key={t.id} role={t.kind === "error" ? "alert" : "status"}>
          <span>{t.text}</span>
          <button class="icon" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
            ✕
          </button>
        </div>
      ))}
    </div>
  );
}

function StudyTitle({ id }: { id: number }) {
  const s = useStudy(id);
  return <span class="crumb-title">{s.info ? `${s.info.name}` : `Study ${id}`}</span>;
}

function Shell({ studyId, page, children }: { studyId: number | null; page: string; children: ComponentChildren }) {
  const [theme, setThemeState] = useState<Theme>(initialTheme());
  const [settings, setSettings] = useState(false);
  const setTheme = (t: Theme) => {
    localStorage.setItem("loupe.theme", t);
    applyTheme(t);
    setThemeState(t);
  };
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <Link to="dashboard/" class="brand" title="All studies">
          <svg viewBox="0 0 16 16" width="20" height="20" aria-hidden="true">
            <circle cx="6.5" cy="6.5" r="4.5" fill="none" stroke="currentColor" stroke-width="2" />
            <path d="M10 10l4.5 4.5" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" />
          </svg>
          loupe
        </Link>
        {studyId !== null && (
          <>
            <span class="sep" aria-hidden="true">
              ›
            </span>
            <StudyTitle id={studyId} />
            <nav class="study-nav" aria-label="Study pages">
              {STUDY_PAGES.map(([p, label]) => (
                <Link to={`dashboard/studies/${studyId}/${p}`} class={page === p ? "on" : ""} aria-current={page === p ? "page" : undefined}>
                  {label}
                </Link>
              ))}
            </nav>
          </>
        )}
        <span class="grow" />
        <LiveDot />
        <button class="icon" aria-label={theme === "dark" ? "Use light theme" : "Use dark theme"} title="Theme" onClick={() => setTheme(theme === "dark" ? "light" : "dark")}>
          {theme === "dark" ? "☀" : "☾"}
        </button>
        <button class="icon" aria-label="Settings" title="Settings" onClick={() => setSettings(true)}>
          ⚙
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<Spinner />}>{children}</Suspense>
      </main>
      <Toasts />
      {settings && <Settings onClose={() => setSettings(false)} theme={theme} setTheme={setTheme} />}
    </>
  );
}

function StudyHome({ id }: { id: number }) {
  const s = useStudy(id);
  useEffect(() => {
    if (s.info) navigate(`dashboard/studies/${id}/${s.info.form_widgets ? "rate" : "plots"}`, true);
  }, [!!s.info]);
  if (s.error) return <p class="error">{s.error}</p>;
  return <Spinner label="Loading study…" />;
}

function App() {
  const loc = useLocation();
  const parts = loc.path.split("/").filter(Boolean);
  useEffect(() => {
    if (parts.length === 0) navigate("dashboard/", true);
  }, [loc.path]);
  if (parts[0] !== "dashboard")
    return (
      <Shell studyId={null} page="">
        {parts.length === 0 ? <Spinner /> : <p class="error">No page at /{loc.path}. <Link to="dashboard/">All studies</Link></p>}
      </Shell>
    );
  if (parts.length === 1)
    return (
      <Shell studyId={null} page="">
        <StudyList />
      </Shell>
    );
  if (parts[1] === "compare-studies")
    return (
      <Shell studyId={null} page="">
        <Compare />
      </Shell>
    );
  if (parts[1] === "studies" && /^\d+$/.test(parts[2] ?? "")) {
    const id = Number(parts[2]);
    let page = parts[3] ?? "";
    if (page === "analytics" || page === "smartSelection") page = "plots";
    if (page === "trialList" || page === "trialTable") page = page === "trialList" ? "trials" : "table";
    const body =
      page === "" ? <StudyHome id={id} /> :
      page === "rate" ? <RatingQueue id={id} /> :
      page === "gallery" ? <Gallery id={id} /> :
      page === "trials" ? <Trials id={id} /> :
      page === "table" ? <Table id={id} /> :
      page === "plots" ? <Plots id={id} /> :
      page === "note" ? <NotePage id={id} /> :
      <p class="error">Unknown page “{page}”.</p>;
    return (
      <Shell studyId={id} page={page}>
        {body}
      </Shell>
    );
  }
  return (
    <Shell studyId={null} page="">
      <p class="error">No page at /{loc.path}. <Link to="dashboard/">All studies</Link></p>
    </Shell>
  );
}

installLinkInterceptor();
const root = document.getElementById("app")!;
root.textContent = "";
render(<App />, root);
