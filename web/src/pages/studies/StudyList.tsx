// Study list: every study with its direction(s), trial counts by state, best value and
// last activity; search, sort, create, rename, delete (optionally with artifacts), compare.
import { useMemo, useState } from "preact/hooks";
import { api } from "../../lib/api";
import { fmt, relTime } from "../../lib/derive";
import { navigate } from "../../lib/router";
import { studyList, useMeta, useStudyList } from "../../lib/store";
import { toast } from "../../lib/toast";
import type { Direction, StudySummary } from "../../lib/types";
import { num } from "../../lib/types";
import { Confirm, Empty, Link, Modal, Spinner } from "../../components/ui";

function CreateDialog({ onClose, existing }: { onClose: () => void; existing: Set<string> }) {
  const [name, setName] = useState("");
  const [dirs, setDirs] = useState<Direction[]>(["minimize"]);
  const [busy, setBusy] = useState(false);
  const dup = existing.has(name.trim());
  const create = async () => {
    setBusy(true);
    try {
      const r = await api.createStudy(name.trim(), dirs);
      toast(`Created study “${r.study_summary.study_name}”.`, "ok");
      void studyList.load();
      onClose();
    } catch (e) {
      toast(`Could not create the study: ${(e as Error).message}`, "error");
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      title="New study"
      onClose={onClose}
      actions={
        <>
          <button onClick={onClose}>Cancel</button>
          <button class="primary" disabled={!name.trim() || dup || busy} onClick={() => void create()}>
            Create
          </button>
        </>
      }
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim() && !dup) void create();
        }}
      >
        <label class="field">
          <span>Study name</span>
          <input value={name} autofocus onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} aria-invalid={dup} />
          {dup && <small class="error">A study with this name already exists.</small>}
        </label>
        {dirs.map((d, i) => (
          <label class="field inline" key={i}>
            <span>Objective {i}</span>
            <select value={d} onChange={(e) => setDirs(dirs.map((x, k) => (k === i ? ((e.currentTarget as HTMLSelectElement).value as Direction) : x)))}>
              <option value="minimize">Minimize</option>
              <option value="maximize">Maximize</option>
            </select>
          </label>
        ))}
        <div class="row">
          <button type="button" onClick={() => setDirs([...dirs, "minimize"])}>
            Add objective
          </button>
          <button type="button" disabled={dirs.length <= 1} onClick={() => setDirs(dirs.slice(0, -1))}>
            Remove objective
          </button>
        </div>
      </form>
    </Modal>
  );
}

function RenameDialog({ s, onClose }: { s: StudySummary; onClose: () => void }) {
  const [name, setName] = useState(s.study_name);
  const rename = async () => {
    try {
      const r = await api.renameStudy(s.study_id, name.trim());
      toast(`Renamed to “${r.study_name}” (now id ${r.study_id}).`, "ok");
      void studyList.load();
      onClose();
    } catch (e) {
      toast(`Rename failed: ${(e as Error).message}`, "error");
    }
  };
  return (
    <Modal
      title={`Rename study ${s.study_id}`}
      onClose={onClose}
      actions={
        <>
          <button onClick={onClose}>Cancel</button>
          <button class="primary" disabled={!name.trim() || name.trim() === s.study_name} onClick={() => void rename()}>
            Rename
          </button>
        </>
      }
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void rename();
        }}
      >
        <label class="field">
          <span>New name</span>
          <input value={name} autofocus onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
        </label>
      </form>
      <p class="muted">Renaming copies the study and its trials into a new study, so the study id changes.</p>
    </Modal>
  );
}

function DeleteDialog({ s, onClose, artifacts }: { s: StudySummary; onClose: () => void; artifacts: boolean }) {
  const [withArtifacts, setWith] = useState(false);
  return (
    <Confirm
      title={`Delete study ${s.study_id}?`}
      danger
      confirm="Delete"
      onCancel={onClose}
      onConfirm={async () => {
        onClose();
        try {
          await api.deleteStudy(s.study_id, withArtifacts);
          toast(`Deleted “${s.study_name}”.`, "ok");
          void studyList.load();
        } catch (e) {
          toast(`Delete failed: ${(e as Error).message}`, "error");
        }
      }}
      message={
        <>
          <p>
            “{s.study_name}” and all its trials will be deleted. This cannot be undone.
          </p>
          {artifacts && (
            <label class="field inline">
              <input type="checkbox" checked={withArtifacts} onChange={(e) => setWith((e.currentTarget as HTMLInputElement).checked)} />
              <span>Also delete the study's and its trials' artifacts</span>
            </label>
          )}
          {withArtifacts && <p class="warn">Artifacts shared with other studies or trials will become inaccessible.</p>}
        </>
      }
    />
  );
}

function Counts({ s }: { s: StudySummary }) {
  const c = s.trial_counts;
  if (!c) return null;
  const total = c.complete + c.running + c.pruned + c.fail + c.waiting;
  return (
    <span class="counts" aria-label={`${total} trials`}>
      <b>{total.toLocaleString()}</b> trials
      {c.running > 0 && <span class="chip state-running">{c.running} running</span>}
      {c.complete > 0 && <span class="chip state-complete">{c.complete} complete</span>}
      {c.pruned > 0 && <span class="chip state-pruned">{c.pruned} pruned</span>}
      {c.fail > 0 && <span class="chip state-fail">{c.fail} failed</span>}
      {c.waiting > 0 && <span class="chip state-waiting">{c.waiting} waiting</span>}
    </span>
  );
}

export function StudyList() {
  const list = useStudyList();
  const meta = useMeta();
  const [q, setQ] = useState("");
  const [desc, setDesc] = useState(true);
  const [creating, setCreating] = useState(false);
  const [renaming, setRenaming] = useState<StudySummary | null>(null);
  const [deleting, setDeleting] = useState<StudySummary | null>(null);
  const all = list.summaries;
  const shown = useMemo(() => {
    if (!all) return [];
    const toks = q.toLowerCase().split(/\s+/).filter(Boolean);
    const r = all.filter((s) => toks.every((t) => s.study_name.toLowerCase().includes(t)));
    return desc ? [...r].reverse() : r;
  }, [all, q, desc, list.version]);

  return (
    <div class="page study-list">
      <div class="toolbar">
        <h1>Studies</h1>
        <input type="search" placeholder="Search studies" aria-label="Search studies" value={q} onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
        <button onClick={() => setDesc(!desc)} aria-label={desc ? "Sort oldest first" : "Sort newest first"}>
          {desc ? "Newest first" : "Oldest first"}
        </button>
        <Link to="dashboard/compare-studies" class="button">
          Compare
        </Link>
        <button class="primary" onClick={() => setCreating(true)}>
          New study
        </button>
      </div>
      {list.error && <p class="error">Could not load studies: {list.error}</p>}
      {!all && !list.error && <Spinner label="Loading studies…" />}
      {all && all.length === 0 && <Empty>No studies yet. Create one, or run a script that writes to this storage.</Empty>}
      {all && all.length > 0 && shown.length === 0 && <Empty>No study matches “{q}”.</Empty>}
      <ul class="study-cards">
        {shown.map((s) => {
          const bv = s.best_values && s.best_values.length ? num(s.best_values[0]) : null;
          const names = s.metric_names ?? null;
          return (
            <li class="study-card" key={s.study_id}>
              <div class="sc-main">
                <Link to={`dashboard/studies/${s.study_id}`} class="sc-title">
                  <span class="muted">{s.study_id}.</span> {s.study_name}
                </Link>
                <div class="sc-sub">
                  {s.is_preferential ? "Preferential optimization" : s.directions.map((d, i) => (names?.[i] ? `${names[i]}: ${d}` : d)).join(", ")}
                </div>
                <Counts s={s} />
              </div>
              <div class="sc-side">
                {bv !== null && s.directions.length === 1 && (
                  <div class="sc-best" title="Best value">
                    <small>best</small> {fmt(bv)}
                  </div>
                )}
                <div class="muted" title={s.datetime_last_activity ?? ""}>
                  {s.trial_counts ? `active ${relTime(s.datetime_last_activity)}` : ""}
                </div>
                <div class="row">
                  <button class="small" onClick={() => setRenaming(s)} aria-label={`Rename ${s.study_name}`}>
                    Rename
                  </button>
                  <button class="small danger" onClick={() => setDeleting(s)} aria-label={`Delete ${s.study_name}`}>
                    Delete
                  </button>
                  <button class="small" onClick={() => navigate(`dashboard/studies/${s.study_id}/plots`)}>
                    Plots
                  </button>
                </div>
              </div>
            </li>
          );
        })}
      </ul>
      {creating && <CreateDialog onClose={() => setCreating(false)} existing={new Set((all ?? []).map((s) => s.study_name))} />}
      {renaming && <RenameDialog s={renaming} onClose={() => setRenaming(null)} />}
      {deleting && <DeleteDialog s={deleting} onClose={() => setDeleting(null)} artifacts={!!meta?.artifact_is_available} />}
    </div>
  );
}
