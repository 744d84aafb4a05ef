// Plots page: every plot of the catalogue with upstream's controls. A card draws only
// once it scrolls into view, and redraws at most twice a second while trials stream in;
// while a large study's newest trials stand in for it, only History and importance draw.
import { createContext, type ComponentChildren } from "preact";
import { useContext, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { Empty, Link, Spinner, PartialBanner, StudyLoading } from "../../components/ui";
import { api } from "../../lib/api";
import { counts, objectiveNames } from "../../lib/derive";
import { navigate } from "../../lib/router";
import { setSelection, useSelection } from "../../lib/selection";
import { useStudy, type StudyData, view } from "../../lib/store";
import type { ParamImportance } from "../../lib/types";
import * as B from "./builders";
import { LazyChart, loadECharts } from "./Chart";
import { UserFigures } from "./UserFigures";

// The page is shown: start fetching the plotting library while the cards lay out.
void loadECharts();

/** The study version, but changing at most every `ms` while updates stream in. */
export function useThrottled(v: number, ms = 500): number {
  const [out, setOut] = useState(v);
  const last = useRef(0);
  useEffect(() => {
    const wait = last.current + ms - Date.now();
    if (wait <= 0) {
      last.current = Date.now();
      setOut(v);
      return;
    }
    const t = window.setTimeout(() => {
      last.current = Date.now();
      setOut(v);
    }, wait);
    return () => window.clearTimeout(t);
  }, [v]);
  return out;
}

// True while a large study's newest trials stand in for it: then only the cards marked
// `early` draw (History from those trials, importance from the server); the others would
// be drawn twice, and at 100,000 trials they held up the first screen by seconds.
const Partial = createContext(false);

function Card(p: { title: string; wide?: boolean; early?: boolean; controls?: ComponentChildren; children: ComponentChildren; id: string }) {
  const ref = useRef<HTMLElement>(null);
  const [seen, setSeen] = useState(false);
  const waiting = useContext(Partial) && !p.early;
  useEffect(() => {
    const io = new IntersectionObserver((es) => {
      if (es.some((e) => e.isIntersecting)) {
        setSeen(true);
        io.disconnect();
      }
    }, { rootMargin: "200px" });
    io.observe(ref.current!);
    return () => io.disconnect();
  }, []);
  return (
    <section ref={ref} class={`card plot-card ${p.wide ? "wide" : ""}`} aria-labelledby={`${p.id}-h`} id={p.id}>
      <h2 id={`${p.id}-h`}>{p.title}</h2>
      {p.controls && <div class="plot-controls">{p.controls}</div>}
      {seen && !waiting ? p.children : <div class="chart placeholder" style={{ height: "380px" }}>{waiting && <span class="muted chart-loading">Drawn once the whole study has arrived…</span>}</div>}
    </section>
  );
}

function Select<T extends string | number>(p: { label: string; value: T; options: [T, string][]; onChange: (v: T) => void }) {
  return (
    <label>
      {p.label}{" "}
      <select
        value={String(p.value)}
        onChange={(e) => {
          const raw = (e.currentTarget as HTMLSelectElement).value;
          p.onChange((typeof p.value === "number" ? Number(raw) : raw) as T);
        }}
      >
        {p.options.map(([v, l]) => (
          <option value={String(v)}>{l}</option>
        ))}
      </select>
    </label>
  );
}

function Toggle(p: { label: string; value: boolean; onChange: (v: boolean) => void; disabled?: boolean }) {
  return (
    <label class="inline">
      <input type="checkbox" checked={p.value} disabled={p.disabled} onChange={(e) => p.onChange((e.currentTarget as HTMLInputElement).checked)} /> {p.label}
    </label>
  );
}

function HistoryCard({ s, v }: { s: StudyData; v: number }) {
  const info = s.info!;
  const names = objectiveNames(info);
  const sel = useSelection(s.id);
  const targets: [string, string][] = [...names.map((n, i) => [`o${i}`, n] as [string, string]), ...info.union_user_attrs.filter((a) => a.sortable).map((a) => [`a:${a.key}`, `user attr ${a.key}`] as [string, string])];
  const [target, setTarget] = useState("o0");
  const [x, setX] = useState<B.HistoryOpts["x"]>("number");
  const [logY, setLogY] = useState(false);
  const [pruned, setPruned] = useState(true);
  const [size, setSize] = useState(5);
  const tg: B.Target = target.startsWith("o") ? { kind: "objective", index: Number(target.slice(1)) } : { kind: "attr", key: target.slice(2) };
  return (
    <Card
      id="history"
      title="History"
      wide
      early
      controls={
        <>
          <Select label="Y" value={target} options={targets} onChange={setTarget} />
          <fieldset class="radios">
            <legend>X</legend>
            {([["number", "Number"], ["datetime_start", "Datetime start"], ["datetime_complete", "Datetime complete"]] as const).map(([k, l]) => (
              <label class="inline">
                <input type="radio" name="hx" checked={x === k} onChange={() => setX(k)} /> {l}
              </label>
            ))}
          </fieldset>
          <Toggle label="Log y" value={logY} onChange={setLogY} />
          <Toggle label="Include pruned" value={pruned} onChange={setPruned} disabled={counts(s).Pruned === 0} />
          <label>
            Marker size{" "}
            <input type="range" min={1} max={10} value={size} onInput={(e) => setSize(Number((e.currentTarget as HTMLInputElement).value))} />
          </label>
        </>
      }
    >
      <LazyChart label="History plot" build={() => B.history([{ s, name: info.name }], { target: tg, x, logY, includePruned: pruned, markerSize: size, selection: sel })} deps={[v, target, x, logY, pruned, size, sel]} height={400} onClickNumber={(n) => navigate(`dashboard/studies/${s.id}/trials?numbers=${n}`)} />
    </Card>
  );
}

function ParetoCard({ s, v }: { s: StudyData; v: number }) {
  const names = objectiveNames(s.info);
  const [xi, setXi] = useState(0);
  const [yi, setYi] = useState(1);
  const sel = useSelection(s.id);
  const opts = names.map((n, i) => [i, n] as [number, string]);
  return (
    <Card id="pareto" title="Pareto front" wide controls={<><Select label="Objective X" value={xi} options={opts} onChange={setXi} /><Select label="Objective Y" value={yi} options={opts} onChange={setYi} /></>}>
      <LazyChart label="Pareto front plot" build={() => B.pareto(s, xi, yi, sel)} deps={[v, xi, yi, sel]} height={400} onClickNumber={(n) => navigate(`dashboard/studies/${s.id}/trials?numbers=${n}`)} />
    </Card>
  );
}

function ImportanceCard({ s }: { s: StudyData }) {
  return (
    <Card id="importance" title="Hyperparameter importance" early>
      <ImportanceBody s={s} />
    </Card>
  );
}

// The importances need only the study's id: when the app opens on this page they are asked
// for at startup (main.tsx), alongside the trials, and the card takes that answer if fresh.
const prefetched = new Map<number, { at: number; answer: Promise<{ param_importances: ParamImportance[][] }> }>();
export function prefetchImportances(id: number): void {
  const answer = api.importances(id);
  answer.catch(() => {}); // reported by the card
  prefetched.set(id, { at: Date.now(), answer });
}

/** Fetched from the server (PED-ANOVA there) when shown and when the COMPLETE count changes. */
function ImportanceBody({ s }: { s: StudyData }) {
  const complete = counts(s).Complete;
  const [imps, setImps] = useState<ParamImportance[][] | null>(null);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => {
    let stale = false;
    const t = window.setTimeout(() => {
      const p = prefetched.get(s.id);
      prefetched.delete(s.id);
      (p && Date.now() - p.at < 10000 ? p.answer : api.importances(s.id))
        .then((r) => !stale && (setImps(r.param_importances), setErr(null)))
        .catch((e) => !stale && setErr(e.message));
    }, imps ? 1000 : 0);
    return () => {
      stale = true;
      window.clearTimeout(t);
    };
  }, [complete]);
  if (err) return <p class="error">{err}</p>;
  if (!imps) return <Spinner />;
  if (!imps.some((l) => l.length)) return <Empty>Needs at least two complete trials.</Empty>;
  return <LazyChart label="Parameter importance plot" build={() => B.importance(s, imps)} deps={[imps]} height={Math.max(240, 40 + 28 * imps[0].length * Math.min(imps.length, 2))} />;
}

function TimelineCard({ s, v }: { s: StudyData; v: number }) {
  return (
    <Card id="timeline" title="Timeline">
      <LazyChart label="Timeline plot" build={() => B.timeline(s)} deps={[v]} onClickNumber={(n) => navigate(`dashboard/studies/${s.id}/trials?numbers=${n}`)} />
      <p class="muted legend-states">
        {Object.entries(B.STATE_COLORS).map(([k, c]) => (
          <span>
            <i style={{ background: c }} /> {k}
          </span>
        ))}
        {s.trials.length > 1000 && <span>(the latest 1,000 trials)</span>}
      </p>
    </Card>
  );
}

function IntermediateCard({ s, v }: { s: StudyData; v: number }) {
  const [logY, setLogY] = useState(false);
  const [pruned, setPruned] = useState(true);
  const [limit, setLimit] = useState(200);
  return (
    <Card
      id="intermediate"
      title="Intermediate values"
      controls={
        <>
          <Toggle label="Log y" value={logY} onChange={setLogY} />
          <Toggle label="Include pruned" value={pruned} onChange={setPruned} />
          <Select label="Trials" value={limit} options={[[50, "last 50"], [200, "last 200"], [1000, "last 1,000"], [100000000, "all"]]} onChange={setLimit} />
        </>
      }
    >
      <LazyChart label="Intermediate values plot" build={() => B.intermediate(s, logY, pruned, limit)} deps={[v, logY, pruned, limit]} onClickNumber={(n) => navigate(`dashboard/studies/${s.id}/trials?numbers=${n}`)} />
    </Card>
  );
}

function paramOpts(s: StudyData): [string, string][] {
  return s.info!.union_search_space.map((p) => [p.name, p.name]);
}

function SliceCard({ s, v }: { s: StudyData; v: number }) {
  const names = objectiveNames(s.info);
  const ps = paramOpts(s);
  const [obj, setObj] = useState(0);
  const [param, setParam] = useState(ps[0]?.[0] ?? "");
  const [logY, setLogY] = useState(false);
  const [noPruned, setNoPruned] = useState(false);
  const item = s.info!.union_search_space.find((p) => p.name === param) ?? s.info!.union_search_space[0];
  return (
    <Card
      id="slice"
      title="Slice"
      controls={
        <>
          <Select label="Objective" value={obj} options={names.map((n, i) => [i, n])} onChange={setObj} />
          <Select label="Parameter" value={item?.name ?? ""} options={ps} onChange={setParam} />
          <Toggle label="Log y" value={logY} onChange={setLogY} />
          <Toggle label="Filter out pruned" value={noPruned} onChange={setNoPruned} />
        </>
      }
    >
      {item ? <LazyChart label="Slice plot" build={() => B.slice(s, obj, item, logY, noPruned)} deps={[v, obj, item.name, logY, noPruned]} onClickNumber={(n) => navigate(`dashboard/studies/${s.id}/trials?numbers=${n}`)} /> : <Empty>No parameters.</Empty>}
    </Card>
  );
}

function TwoParamCard({ s, v, kind }: { s: StudyData; v: number; kind: "contour" | "rank" }) {
  const names = objectiveNames(s.info);
  const ps = paramOpts(s);
  const [obj, setObj] = useState(0);
  const [px, setPx] = useState(ps[0]?.[0] ?? "");
  const [py, setPy] = useState(ps[1]?.[0] ?? ps[0]?.[0] ?? "");
  const ss = s.info!.union_search_space;
  const ix = ss.find((p) => p.name === px);
  const iy = ss.find((p) => p.name === py);
  return (
    <Card
      id={kind}
      title={kind === "contour" ? "Contour" : "Rank"}
      controls={
        <>
          <Select label="Objective" value={obj} options={names.map((n, i) => [i, n])} onChange={setObj} />
          <Select label="x" value={px} options={ps} onChange={setPx} />
          <Select label="y" value={py} options={ps} onChange={setPy} />
        </>
      }
    >
      {ps.length < 2 || !ix || !iy ? (
        <Empty>Needs two parameters.</Empty>
      ) : (
        <LazyChart
          label={`${kind} plot`}
          build={() => (kind === "rank" ? B.rank(s, obj, ix, iy) : B.contour(s, obj, ix, iy))}
          deps={[v, obj, px, py]}
          empty="Needs at least three complete trials."
          onClickNumber={(n) => navigate(`dashboard/studies/${s.id}/trials?numbers=${n}`)}
        />
      )}
    </Card>
  );
}

function EdfCard({ s, v, objective }: { s: StudyData; v: number; objective: number }) {
  const name = objectiveNames(s.info)[objective];
  return (
    <Card id={`edf${objective}`} title={`Empirical distribution: ${name}`}>
      <LazyChart label={`EDF plot of ${name}`} build={() => B.edf([{ s, name: s.info!.name }], objective)} deps={[v]} empty="No complete trials." />
    </Card>
  );
}

function ParallelCard({ s, v }: { s: StudyData; v: number }) {
  const { axes, defaults } = useMemo(() => B.parallelAxes(s), [s.info?.union_search_space, s.info?.union_user_attrs, s.info?.directions]);
  const [on, setOn] = useState<Set<string>>(defaults);
  const sel = useSelection(s.id);
  const chosen = axes.filter((a) => on.has(a.id));
  const rows = useRef<number[]>([]);
  return (
    <Card
      id="parallel"
      title="Parallel coordinates"
      wide
      controls={
        <>
          <Toggle label="Check all" value={chosen.length === axes.length} onChange={(x) => setOn(new Set(x ? axes.map((a) => a.id) : []))} />
          {axes.map((a) => (
            <Toggle
              label={a.label}
              value={on.has(a.id)}
              onChange={(x) => {
                const n = new Set(on);
                if (x) n.add(a.id);
                else n.delete(a.id);
                setOn(n);
              }}
            />
          ))}
        </>
      }
    >
      <p class="muted">
        Drag along an axis to select trials; the selection shows in History and in the <Link to={`dashboard/studies/${s.id}/table`}>Table</Link>.
        {sel && (
          <>
            {" "}
            <b>{sel.size.toLocaleString()} selected.</b>{" "}
            <button class="small" onClick={() => setSelection(s.id, null)}>
              Clear
            </button>
          </>
        )}
      </p>
      {chosen.length < 2 ? (
        <Empty>Check at least two axes.</Empty>
      ) : (
        <LazyChart
          label="Parallel coordinate plot"
          build={() => {
            const b = B.parallel(s, chosen);
            rows.current = b.rows;
            return b.option;
          }}
          deps={[v, chosen.map((a) => a.id).join("|")]}
          height={420}
          onBrush={(idx) => setSelection(s.id, idx ? new Set(idx.map((i) => rows.current[i])) : null)}
        />
      )}
    </Card>
  );
}

export function Plots({ id }: { id: number }) {
  const s = view(useStudy(id));
  const v = useThrottled(s.version);
  if (s.error) return <p class="error">{s.error}</p>;
  if (!s.info) return <StudyLoading s={s} />;
  const info = s.info;
  const multi = info.directions.length > 1;
  return (
    <div class="page plots">
      <div class="toolbar">
        <h1>Plots</h1>
        {s.partial && <PartialBanner s={s} />}
        <nav class="jump" aria-label="Jump to plot">
          {[
            "history", ...(multi ? ["pareto"] : []), "importance", "timeline",
            // the study's own Plotly figures follow Timeline: one entry for the first of them
            ...(info.plotly_graph_objects?.length ? [`figure-${info.plotly_graph_objects[0].id}`] : []),
            ...(info.has_intermediate_values ? ["intermediate"] : []), "slice", "contour", "rank", "edf0", "parallel",
          ].map((k) => (
            <a href={`#${k}`} onClick={(e) => { e.preventDefault(); document.getElementById(k)?.scrollIntoView({ behavior: "smooth" }); }}>{k.startsWith("figure-") ? "figures" : k.replace(/0$/, "").replace("edf", "EDF")}</a>
          ))}
        </nav>
      </div>
      {s.trials.length === 0 && <Empty>This study has no trials yet; plots fill in as trials arrive.</Empty>}
      <Partial.Provider value={s.partial}>
      <div class="plot-grid">
        <HistoryCard s={s} v={v} />
        {multi && <ParetoCard s={s} v={v} />}
        <ImportanceCard s={s} />
        <TimelineCard s={s} v={v} />
        <UserFigures figures={info.plotly_graph_objects} />
        {info.has_intermediate_values && <IntermediateCard s={s} v={v} />}
        <SliceCard s={s} v={v} />
        <TwoParamCard s={s} v={v} kind="contour" />
        <TwoParamCard s={s} v={v} kind="rank" />
        {info.directions.map((_, i) => (
          <EdfCard s={s} v={v} objective={i} />
        ))}
        <ParallelCard s={s} v={v} />
      </div>
      </Partial.Provider>
    </div>
  );
}
