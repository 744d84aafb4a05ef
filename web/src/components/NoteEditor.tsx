// A study or trial note: rendered Markdown, and an editor with preview that saves with
// optimistic versioning. When someone else saved first (409, or a newer version arrives
// live) the person sees both texts and chooses; their own edits are never dropped silently.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError } from "../lib/api";
import { patchInfo, patchTrial } from "../lib/store";
import { toast } from "../lib/toast";
import type { Artifact, Note, Trial } from "../lib/types";
import { Markdown } from "./Markdown";

interface Props {
  studyId: number;
  trial: Trial | null;
  note: Note;
  artifacts?: Artifact[];
  title?: string;
  tall?: boolean;
}

export function NoteEditor(p: Props) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(p.note.body);
  const [base, setBase] = useState(p.note.version);
  const [tab, setTab] = useState<"write" | "preview">("write");
  const [conflict, setConflict] = useState<Note | null>(null);
  const [saving, setSaving] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);
  const dirty = editing && draft !== p.note.body;
  const stale = editing && p.note.version > base;

  useEffect(() => {
    if (!editing) return;
    const h = (e: BeforeUnloadEvent) => {
      if (draft !== p.note.body) e.preventDefault();
    };
    window.addEventListener("beforeunload", h);
    return () => window.removeEventListener("beforeunload", h);
  }, [editing, draft, p.note.body]);

  const start = () => {
    setDraft(p.note.body);
    setBase(p.note.version);
    setConflict(null);
    setTab("write");
    setEditing(true);
    setTimeout(() => area.current?.focus(), 0);
  };

  const save = async (onVersion = base) => {
    setSaving(true);
    const next = { version: onVersion + 1, body: draft };
    try {
      if (p.trial) await api.saveTrialNote(p.studyId, p.trial.trial_id, next);
      else await api.saveStudyNote(p.studyId, next);
      if (p.trial) patchTrial(p.studyId, p.trial.number, { note: next });
      else patchInfo(p.studyId, { note: next });
      setEditing(false);
      setConflict(null);
      toast("Note saved.", "ok");
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        const theirs = (e.body?.note as Note) ?? { version: p.note.version, body: p.note.body };
        setConflict(theirs);
      } else toast(`Saving the note failed: ${(e as Error).message}`, "error");
    } finally {
      setSaving(false);
    }
  };

  const insert = (a: Artifact) => {
    const el = area.current;
    const link = `![${a.filename}](/artifacts/${p.studyId}${p.trial ? "/" + p.trial.trial_id : ""}/${a.artifact_id})`;
    const s = el?.selectionStart ?? draft.length;
    setDraft(draft.slice(0, s) + link + draft.slice(el?.selectionEnd ?? s));
  };

  if (!editing)
    return (
      <section class={`note ${p.tall ? "tall" : ""}`} aria-label={p.title ?? "Note"}>
        <div class="note-head">
          <h3>{p.title ?? "Note"}</h3>
          <button class="small" onClick={start} aria-label={`Edit ${p.title ?? "note"}`}>
            Edit
          </button>
        </div>
        {p.note.body.trim() ? <Markdown source={p.note.body} /> : <p class="muted">No note yet.</p>}
      </section>
    );

  const theirs = conflict ?? (stale ? p.note : null);
  return (
    <section class={`note editing ${p.tall ? "tall" : ""}`} aria-label={`Editing ${p.title ?? "note"}`}>
      <div class="note-head">
        <h3>{p.title ?? "Note"} (editing)</h3>
        <div class="tabs" role="tablist">
          <button role="tab" aria-selected={tab === "write"} class={tab === "write" ? "on" : ""} onClick={() => setTab("write")}>
            Write
          </button>
          <button role="tab" aria-selected={tab === "preview"} class={tab === "preview" ? "on" : ""} onClick={() => setTab("preview")}>
            Preview
          </button>
        </div>
      </div>
      {theirs && (
        <div class="conflict" role="alert">
          <p>
            <strong>Someone else saved this note</strong> (version {theirs.version}) after you started editing. Your text is kept below.
          </p>
          <details open={!!conflict}>
            <summary>Their version</summary>
            <pre class="their-text">{theirs.body}</pre>
          </details>
          <div class="row">
            <button
              onClick={() => {
                setDraft(theirs.body);
                setBase(theirs.version);
                setConflict(null);
              }}
            >
              Discard mine, use theirs
            </button>
            <button
              class="primary"
              onClick={() => {
                setBase(theirs.version);
                void save(theirs.version);
              }}
            >
              Save mine over theirs
            </button>
          </div>
        </div>
      )}
      <div class={`editor-panes ${tab}`}>
        <textarea
          ref={area}
          aria-label="Markdown text"
          value={draft}
          onInput={(e) => setDraft((e.currentTarget as HTMLTextAreaElement).value)}
          onKeyDown={(e) => {
            e.stopPropagation();
            if ((e.ctrlKey || e.metaKey) && e.key === "s") {
              e.preventDefault();
              if (!theirs) void save();
            }
            if (e.key === "Escape" && draft === p.note.body) setEditing(false);
          }}
        />
        <div class="preview" aria-label="Preview">
          <Markdown source={draft} />
        </div>
      </div>
      {p.artifacts && p.artifacts.some((a) => a.mimetype.startsWith("image/")) && (
        <div class="insert-row">
          Insert image:{" "}
          {p.artifacts
            .filter((a) => a.mimetype.startsWith("image/"))
            .map((a) => (
              <button class="small" onClick={() => insert(a)}>
                {a.filename}
              </button>
            ))}
        </div>
      )}
      <div class="row end">
        <button
          onClick={() => {
            if (draft === p.note.body || confirm("Discard your unsaved changes?")) setEditing(false);
          }}
        >
          Cancel
        </button>
        <button class="primary" disabled={saving || !!theirs} onClick={() => void save()} title="Ctrl+S">
          {saving ? "Saving…" : "Save"}
        </button>
      </div>
      {dirty && <span class="sr-only">Unsaved changes</span>}
    </section>
  );
}
