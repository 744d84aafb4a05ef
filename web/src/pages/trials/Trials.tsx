// Trials: a virtualised list with state chips and filters (state, best), Shift+click to
// compare several trials side by side; the URL keeps ?numbers=&exclude=&best=.
import { useMemo } from "preact/hooks";
import { TrialDetail } from "../../components/TrialDetail";
import { BestChip, Empty, StateChip, PartialBanner, StudyLoading } from "../../components/ui";
import { VirtualList } from "../../components/VirtualList";
import { bestNumbers, counts, fmt, values } from "../../lib/derive";
import { setQuery, useLocation } from "../../lib/router";
import { useStudy, view, byNumber } from "../../lib/store";
import { STATES, type TrialState } from "../../lib/types";

export function Trials({ id }: { id: number }) {
  const s = view(useStudy(id));
  const loc = useLocation();
  const exclude = new Set((loc.query.get("exclude") ?? "").split(",").filter(Boolean) as TrialState[]);
  const bestOnly = loc.query.get("best") === "true";
  const selected = (loc.query.get("numbers") ?? "")
    .split(",")
    .filter((x) => /^\d+$/.test(x))
    .map(Number);
  const best = bestNumbers(s);
  const c = counts(s);

  const shown = useMemo(() => s.trials.filter((t) => !exclude.has(t.state) && (!bestOnly || best.has(t.number))), [s.version, loc.query.toString()]);
  const sel = selected.length ? selected.filter((n) => byNumber(s, n)) : shown.length ? [shown[0].number] : [];
  const selSet = new Set(sel);
  const selIndex = shown.findIndex((t) => t.number === sel[0]);

  if (s.error) return <p class="error">{s.error}</p>;
  if (!s.info) return <StudyLoading s={s} />;

  const select = (n: number, add: boolean) => {
    let next: number[];
    if (add) next = selSet.has(n) ? sel.filter((x) => x !== n) : [...sel, n];
    else next = [n];
    setQuery({ numbers: next.join(",") });
  };
  const toggleState = (st: TrialState) => {
    const e = new Set(exclude);
    if (e.has(st)) e.delete(st);
    else e.add(st);
    setQuery({ exclude: [...e].join(",") });
  };

  return (
    <div class="page trials">
      {s.partial && <PartialBanner s={s} />}
      <aside class="trial-list" aria-label="Trial list">
        <div class="tl-head">
          <b>{shown.length.toLocaleString()} trials</b>
          <details class="filter">
            <summary>Filter</summary>
            <div class="menu">
              {STATES.map((st) => (
                <label class="inline">
                  <input type="checkbox" checked={!exclude.has(st)} disabled={c[st] === 0} onChange={() => toggleState(st)} /> {st} ({c[st].toLocaleString()})
                </label>
              ))}
              <label class="inline">
                <input type="checkbox" checked={bestOnly} onChange={() => setQuery({ best: bestOnly ? null : "true" })} /> Best trials only ({best.size})
              </label>
            </div>
          </details>
        </div>
        {shown.length === 0 ? (
          <Empty>{s.trials.length === 0 ? "This study has no trials yet." : "No trial matches the filter."}</Empty>
        ) : (
          <VirtualList
            count={shown.length}
            rowHeight={44}
            label="Trials"
            scrollTo={selIndex >= 0 ? selIndex : null}
            onKeyDown={(e) => {
              if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
              e.preventDefault();
              const i = Math.max(0, Math.min(shown.length - 1, selIndex + (e.key === "ArrowDown" ? 1 : -1)));
              select(shown[i].number, false);
            }}
            render={(i) => {
              const t = shown[i];
              const v = values(t);
              return (
                <button
                  class={`trow ${selSet.has(t.number) ? "on" : ""}`}
                  aria-pressed={selSet.has(t.number)}
                  onClick={(e) => select(t.number, e.shiftKey)}
                  title="Click to show; Shift+click to compare several"
                >
                  <span class="tnum">Trial {t.number}</span>
                  <StateChip state={t.state} />
                  {best.has(t.number) && <BestChip />}
                  <span class="tval">{v ? v.map((x) => fmt(x, 4)).join(", ") : ""}</span>
                </button>
              );
            }}
          />
        )}
        <p class="muted tl-hint">Shift+click to compare trials side by side; ↑/↓ to move.</p>
      </aside>
      <section class={`trial-details n${Math.min(sel.length, 3)}`} aria-label="Selected trials">
        {sel.length === 0 && <Empty>Select a trial.</Empty>}
        {sel.map((n) => (
          <TrialDetail key={byNumber(s, n)!.trial_id} s={s} trial={byNumber(s, n)!} />
        ))}
      </section>
    </div>
  );
}
