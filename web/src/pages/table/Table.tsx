// Trial table: sortable and filterable columns (number, state, values, params, user
// attrs), pagination with a page box, row selection, CSV download of all or selected.
import { useMemo, useState } from "preact/hooks";
import { Empty, Link, StateChip, PartialBanner, StudyLoading } from "../../components/ui";
import { csvUrl } from "../../lib/api";
import { fmt, objectiveNames, paramDisplay, userAttr } from "../../lib/derive";
import { setSelection, useSelection } from "../../lib/selection";
import { useStudy, view } from "../../lib/store";
import { num, STATES, type Trial } from "../../lib/types";

interface Col {
  id: string;
  label: string;
  numeric: boolean;
  get: (t: Trial) => number | string | undefined;
}

/** "a..b", ">x", "<=x", "=x", or a substring. */
function matcher(expr: string, numeric: boolean): ((v: number | string | undefined) => boolean) | null {
  const e = expr.trim();
  if (!e) return null;
  if (numeric) {
    let m = /^(-?[\d.eE+-]+)\s*\.\.\s*(-?[\d.eE+-]+)$/.exec(e);
    if (m) {
      const a = Number(m[1]), b = Number(m[2]);
      return (v) => typeof v === "number" && v >= a && v <= b;
    }
    m = /^(<=|>=|<|>|=|!=)\s*(-?[\d.eE+-]+|inf|-inf)$/.exec(e);
    if (m) {
      const x = num(m[2]);
      const op = m[1];
      return (v) =>
        typeof v === "number" &&
        (op === "<" ? v < x : op === "<=" ? v <= x : op === ">" ? v > x : op === ">=" ? v >= x : op === "=" ? v === x : v !== x);
    }
  }
  const low = e.toLowerCase();
  return (v) => v !== undefined && String(typeof v === "number" ? fmt(v) : v).toLowerCase().includes(low);
}

export function Table({ id }: { id: number }) {
  const s = view(useStudy(id));
  const brushed = useSelection(id);
  const [sort, setSort] = useState<{ col: string; desc: boolean } | null>(null);
  const [filters, setFilters] = useState<Record<string, string>>({});
  const [stateFilter, setStateFilter] = useState("all");
  const [pageSize, setPageSize] = useState(50);
  const [page, setPage] = useState(0);
  const [picked, setPicked] = useState<Set<number>>(new Set());
  const [onlyBrushed, setOnlyBrushed] = useState(false);
  const info = s.info;

  const cols: Col[] = useMemo(() => {
    if (!info) return [];
    const names = objectiveNames(info);
    const c: Col[] = [{ id: "number", label: "Number", numeric: true, get: (t) => t.number }];
    names.forEach((n, i) => c.push({ id: `v${i}`, label: info.directions.length === 1 && n === "Objective" ? "Value" : n, numeric: true, get: (t) => (t.values ? num(t.values[i]) : undefined) }));
    for (const p of info.union_search_space) {
      const categorical = p.distribution.type === "CategoricalDistribution";
      c.push({
        id: `p:${p.name}`,
        label: `Param ${p.name}`,
        numeric: !categorical,
        get: categorical
          ? (t) => paramDisplay(t, p.name)
          : (t) => {
              const x = t.params.find((q) => q.name === p.name);
              return x ? num(x.param_internal_value) : undefined;
            },
      });
    }
    for (const a of info.union_user_attrs)
      c.push({
        id: `u:${a.key}`,
        label: `UserAttribute ${a.key}`,
        numeric: a.sortable,
        get: a.sortable ? (t) => {
          const v = userAttr(t, a.key);
          return v === undefined ? undefined : Number(v);
        } : (t) => userAttr(t, a.key),
      });
    return c;
  }, [info?.union_search_space, info?.union_user_attrs, info?.directions, info?.objective_names]);

  const rows = useMemo(() => {
    let r = s.trials as Trial[];
    if (stateFilter !== "all") r = r.filter((t) => t.state === stateFilter);
    if (onlyBrushed && brushed) r = r.filter((t) => brushed.has(t.number));
    for (const c of cols) {
      const m = matcher(filters[c.id] ?? "", c.numeric);
      if (m) r = r.filter((t) => m(c.get(t)));
    }
    if (sort) {
      const c = cols.find((x) => x.id === sort.col);
      if (c) {
        const keyed = r.map((t) => ({ t, k: c.get(t) }));
        keyed.sort((a, b) => {
          // Missing values always last.
          if (a.k === undefined || (typeof a.k === "number" && Number.isNaN(a.k))) return 1;
          if (b.k === undefined || (typeof b.k === "number" && Number.isNaN(b.k))) return -1;
          const d = typeof a.k === "number" && typeof b.k === "number" ? a.k - b.k : String(a.k).localeCompare(String(b.k));
          return sort.desc ? -d : d;
        });
        r = keyed.map((x) => x.t);
      }
    }
    return r;
  }, [s.version, cols, filters, stateFilter, sort, onlyBrushed, brushed]);

  if (s.error) return <p class="error">{s.error}</p>;
  if (!info) return <StudyLoading s={s} />;

  const pages = Math.max(1, Math.ceil(rows.length / pageSize));
  const pg = Math.min(page, pages - 1);
  const pageRows = rows.slice(pg * pageSize, pg * pageSize + pageSize);
  const toggle = (n: number) => {
    const p = new Set(picked);
    if (p.has(n)) p.delete(n);
    else p.add(n);
    setPicked(p);
  };
  const cycleSort = (c: string) => setSort(!sort || sort.col !== c ? { col: c, desc: false } : !sort.desc ? { col: c, desc: true } : null);

  return (
    <div class="page table-page">
      <div class="toolbar">
        <h1>Table</h1>
        {s.partial && <PartialBanner s={s} />}
        <span class="muted">
          {rows.length.toLocaleString()} of {s.trials.length.toLocaleString()} trials{picked.size ? `, ${picked.size} selected` : ""}
        </span>
        {brushed && (
          <label class="inline">
            <input type="checkbox" checked={onlyBrushed} onChange={(e) => setOnlyBrushed((e.currentTarget as HTMLInputElement).checked)} /> Only the {brushed.size} trials brushed in the plot
          </label>
        )}
        <span class="grow" />
        <button onClick={() => setPicked(new Set(rows.map((t) => t.number)))} disabled={!rows.length}>
          Select all {rows.length.toLocaleString()}
        </button>
        <button onClick={() => setPicked(new Set())} disabled={!picked.size}>
          Clear selection
        </button>
        <button onClick={() => setSelection(id, picked.size ? new Set(picked) : null)} disabled={!picked.size} title="Highlight the selected trials in the plots">
          Show in plots
        </button>
        <a class="button" href={csvUrl(id)} download>
          Download CSV (all)
        </a>
        <a class={`button ${picked.size ? "" : "disabled"}`} aria-disabled={!picked.size} href={picked.size ? csvUrl(id, [...picked].sort((a, b) => a - b)) : undefined} download>
          Download CSV (selected)
        </a>
      </div>
      {s.trials.length === 0 ? (
        <Empty>This study has no trials yet.</Empty>
      ) : (
        <div class="table-scroll">
          <table class="data trials-table">
            <thead>
              <tr>
                <th>
                  <input
                    type="checkbox"
                    aria-label="Select this page"
                    checked={pageRows.length > 0 && pageRows.every((t) => picked.has(t.number))}
                    onChange={(e) => {
                      const p = new Set(picked);
                      const on = (e.currentTarget as HTMLInputElement).checked;
                      pageRows.forEach((t) => (on ? p.add(t.number) : p.delete(t.number)));
                      setPicked(p);
                    }}
                  />
                </th>
                {cols.slice(0, 1).map((c) => (
                  <th aria-sort={sort?.col === c.id ? (sort.desc ? "descending" : "ascending") : "none"}>
                    <button class="sort" onClick={() => cycleSort(c.id)}>
                      {c.label} {sort?.col === c.id ? (sort.desc ? "▼" : "▲") : ""}
                    </button>
                  </th>
                ))}
                <th>State</th>
                {cols.slice(1).map((c) => (
                  <th aria-sort={sort?.col === c.id ? (sort.desc ? "descending" : "ascending") : "none"}>
                    <button class="sort" onClick={() => cycleSort(c.id)}>
                      {c.label} {sort?.col === c.id ? (sort.desc ? "▼" : "▲") : ""}
                    </button>
                  </th>
                ))}
                <th>Detail</th>
              </tr>
              <tr class="filters">
                <th />
                <th>
                  <input aria-label="Filter Number" placeholder="e.g. 10..20" value={filters.number ?? ""} onInput={(e) => { setFilters({ ...filters, number: (e.currentTarget as HTMLInputElement).value }); setPage(0); }} />
                </th>
                <th>
                  <select aria-label="Filter State" value={stateFilter} onChange={(e) => { setStateFilter((e.currentTarget as HTMLSelectElement).value); setPage(0); }}>
                    <option value="all">All</option>
                    {STATES.map((st) => (
                      <option value={st}>{st}</option>
                    ))}
                  </select>
                </th>
                {cols.slice(1).map((c) => (
                  <th>
                    <input
                      aria-label={`Filter ${c.label}`}
                      placeholder={c.numeric ? "<, >, a..b" : "contains"}
                      value={filters[c.id] ?? ""}
                      onInput={(e) => {
                        setFilters({ ...filters, [c.id]: (e.currentTarget as HTMLInputElement).value });
                        setPage(0);
                      }}
                    />
                  </th>
                ))}
                <th />
              </tr>
            </thead>
            <tbody>
              {pageRows.map((t) => (
                <tr class={picked.has(t.number) ? "on" : ""} key={t.trial_id}>
                  <td>
                    <input type="checkbox" aria-label={`Select trial ${t.number}`} checked={picked.has(t.number)} onChange={() => toggle(t.number)} />
                  </td>
                  <td>{t.number}</td>
                  <td>
                    <StateChip state={t.state} />
                  </td>
                  {cols.slice(1).map((c) => {
                    const v = c.get(t);
                    return <td class={c.numeric ? "num" : ""}>{v === undefined ? "" : typeof v === "number" ? (c.id.startsWith("p:") ? paramDisplay(t, c.id.slice(2)) : fmt(v)) : v}</td>;
                  })}
                  <td>
                    <Link to={`dashboard/studies/${id}/trials?numbers=${t.number}`} title={`Open trial ${t.number}`}>
                      Open
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Pages">
        <label>
          Rows per page{" "}
          <select value={pageSize} onChange={(e) => { setPageSize(Number((e.currentTarget as HTMLSelectElement).value)); setPage(0); }}>
            {[10, 25, 50, 100, 500].map((n) => (
              <option value={n}>{n}</option>
            ))}
          </select>
        </label>
        <button onClick={() => setPage(0)} disabled={pg === 0} aria-label="First page">«</button>
        <button onClick={() => setPage(pg - 1)} disabled={pg === 0} aria-label="Previous page">‹</button>
        <label>
          Page{" "}
          <input
            type="number"
            min={1}
            max={pages}
            value={pg + 1}
            aria-label="Go to page"
            onChange={(e) => setPage(Math.max(0, Math.min(pages - 1, Number((e.currentTarget as HTMLInputElement).value) - 1)))}
          />{" "}
          / {pages.toLocaleString()}
        </label>
        <button onClick={() => setPage(pg + 1)} disabled={pg >= pages - 1} aria-label="Next page">›</button>
        <button onClick={() => setPage(pages - 1)} disabled={pg >= pages - 1} aria-label="Last page">»</button>
      </nav>
    </div>
  );
}
