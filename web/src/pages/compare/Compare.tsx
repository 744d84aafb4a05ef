// Compare studies: pick studies with the same directions (Shift+click adds), then one
// History plot overlaying them and one EDF plot per objective. Each study is fetched once.
import { useEffect, useMemo, useState } from "preact/hooks";
import { Empty, Spinner } from "../../components/ui";
import { api } from "../../lib/api";
import { setQuery, useLocation } from "../../lib/router";
import type { StudyData } from "../../lib/store";
import { useStudyList } from "../../lib/store";
import { toast } from "../../lib/toast";
import * as B from "../plots/builders";
import { Chart } from "../plots/Chart";
import { usePalette } from "../../lib/palette";

const cache = new Map<number, StudyData>();

export function Compare() {
  const list = useStudyList();
  const loc = useLocation();
  const ids = (loc.query.get("ids") ?? "").split(",").filter((x) => /^\d+$/.test(x)).map(Number);
  const [loaded, setLoaded] = useState(0);
  const [logY, setLogY] = useState(false);
  const [pruned, setPruned] = useState(false);
  const summaries = list.summaries ?? [];

  useEffect(() => {
    for (const id of ids)
      if (!cache.has(id))
        void api.study(id).then((d) => {
          const { trials, ...info } = d;
          cache.set(id, { id, info, trials, version: 1, error: null, deleted: false, tail: null, tailCounts: null, received: 0 });
          setLoaded((n) => n + 1);
        }).catch((e) => toast(`Study ${id}: ${e.message}`, "error"));
  }, [ids.join(",")]);

  const pick = (id: number, add: boolean) => {
    if (!add) return setQuery({ ids: String(id) });
    if (ids.includes(id)) return setQuery({ ids: ids.filter((x) => x !== id).join(",") });
    const first = summaries.find((s) => s.study_id === ids[0]);
    const me = summaries.find((s) => s.study_id === id);
    if (first && me) {
      if (first.directions.length !== me.directions.length) return toast("You can only compare studies that have the same number of objectives.", "info");
      if (first.directions.join() !== me.directions.join()) return toast("You can only compare studies that have the same directions.", "info");
    }
    setQuery({ ids: [...ids, id].join(",") });
  };

  const ready = ids.filter((id) => cache.has(id)).map((id) => ({ s: cache.get(id)!, name: cache.get(id)!.info!.name }));
  const nObj = ready[0]?.s.info?.directions.length ?? 0;
  const pal = usePalette(); // the history's series colours come from the palette
  const hist = useMemo(() => (ready.length ? B.history(ready, { target: { kind: "objective", index: 0 }, x: "number", logY, includePruned: pruned, markerSize: 4, selection: null }) : null), [loaded, ids.join(","), logY, pruned, pal]);

  return (
    <div class="page compare">
      <aside class="compare-list" aria-label="Studies">
        <h1>Compare studies</h1>
        <p class="muted">Click a study; Shift+click adds another with the same directions.</p>
        {!list.summaries && <Spinner />}
        <ul>
          {summaries.map((s) => (
            <li>
              <button class={ids.includes(s.study_id) ? "on" : ""} aria-pressed={ids.includes(s.study_id)} onClick={(e) => pick(s.study_id, e.shiftKey)}>
                {s.study_id}. {s.study_name} <small class="muted">{s.directions.join(", ")}</small>
              </button>
            </li>
          ))}
        </ul>
      </aside>
      <section class="compare-plots">
        {ids.length === 0 ? (
          <Empty>Select one or more studies.</Empty>
        ) : ready.length < ids.length ? (
          <Spinner label="Loading studies…" />
        ) : (
          <>
            <div class="plot-controls">
              <label class="inline"><input type="checkbox" checked={logY} onChange={(e) => setLogY((e.currentTarget as HTMLInputElement).checked)} /> Log y</label>
              <label class="inline"><input type="checkbox" checked={pruned} onChange={(e) => setPruned((e.currentTarget as HTMLInputElement).checked)} /> Include pruned</label>
            </div>
            <section class="card plot-card wide"><h2>History</h2>{hist && <Chart label="History of the compared studies" option={hist} height={400} />}</section>
            <div class="plot-grid">
              {Array.from({ length: nObj }, (_, i) => {
                const o = B.edf(ready, i);
                return <section class="card plot-card"><h2>EDF: objective {i}</h2>{o ? <Chart label={`EDF of objective ${i}`} option={o} /> : <Empty>No complete trials.</Empty>}</section>;
              })}
            </div>
          </>
        )}
      </section>
    </div>
  );
}
