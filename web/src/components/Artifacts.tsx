// Artifacts: media viewers (image, audio, video), a card grid with download, upload
// (drag-and-drop or picker, raw body) and delete, and a table viewer for CSV/JSONL files.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, artifactUrl } from "../lib/api";
import { patchInfo, patchTrial } from "../lib/store";
import { toast } from "../lib/toast";
import type { Artifact, Trial } from "../lib/types";
import { Confirm, Modal } from "./ui";

export function isImage(a: Artifact): boolean {
  return a.mimetype.startsWith("image/");
}

export function ArtifactMedia(p: { studyId: number; trialId: number | null; a: Artifact; large?: boolean }) {
  const src = artifactUrl(p.studyId, p.trialId, p.a.artifact_id);
  if (p.a.mimetype.startsWith("image/")) return <img class="media" src={src} alt={p.a.filename} decoding="async" loading={p.large ? "eager" : "lazy"} />;
  if (p.a.mimetype.startsWith("audio/"))
    return (
      <audio class="media" controls preload="metadata" src={src} aria-label={p.a.filename}>
        {p.a.filename}
      </audio>
    );
  if (p.a.mimetype.startsWith("video/"))
    return <video class="media" controls preload="metadata" src={src} aria-label={p.a.filename} />;
  return (
    <div class="media file" aria-hidden="true">
      <span>{p.a.filename.split(".").pop()?.toUpperCase() ?? "FILE"}</span>
    </div>
  );
}

function isTable(a: Artifact): "csv" | "jsonl" | null {
  const n = a.filename.toLowerCase().replace(/\.gz$/, "");
  if (n.endsWith(".csv") || a.mimetype === "text/csv") return "csv";
  if (n.endsWith(".jsonl") || n.endsWith(".ndjson")) return "jsonl";
  return null;
}

interface SectionProps {
  studyId: number;
  trial: Trial | null;
  artifacts: Artifact[];
  canEdit: boolean;
  available: boolean;
}

export function ArtifactSection(p: SectionProps) {
  const [confirm, setConfirm] = useState<Artifact | null>(null);
  const [viewing, setViewing] = useState<Artifact | null>(null);
  const [busy, setBusy] = useState(false);
  const [drag, setDrag] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const trialId = p.trial ? p.trial.trial_id : null;

  const apply = (list: Artifact[]) => {
    if (p.trial) patchTrial(p.studyId, p.trial.number, { artifacts: list });
    else patchInfo(p.studyId, { artifacts: list });
  };

  const upload = async (files: FileList | File[]) => {
    setBusy(true);
    try {
      for (const f of Array.from(files)) {
        const r = await api.uploadArtifact(p.studyId, trialId, f);
        apply(r.artifacts);
        toast(`Uploaded ${f.name}.`, "ok");
      }
    } catch (e) {
      toast(`Upload failed: ${(e as Error).message}`, "error");
    } finally {
      setBusy(false);
    }
  };

  const remove = async (a: Artifact) => {
    setConfirm(null);
    try {
      await api.deleteArtifact(p.studyId, trialId, a.artifact_id);
      apply(p.artifacts.filter((x) => x.artifact_id !== a.artifact_id));
      toast(`Deleted ${a.filename}.`, "ok");
    } catch (e) {
      toast(`Delete failed: ${(e as Error).message}`, "error");
    }
  };

  return (
    <section class="artifacts" aria-label="Artifacts">
      <h3>Artifacts</h3>
      {!p.available && <p class="muted">The server has no artifact store (start it with --artifact-dir DIR).</p>}
      <div class="artifact-grid">
        {p.artifacts.map((a) => (
          <div class="artifact-card" key={a.artifact_id}>
            <ArtifactMedia studyId={p.studyId} trialId={trialId} a={a} />
            <div class="artifact-meta">
              <span class="filename" title={a.filename}>
                {a.filename}
              </span>
              <span class="actions">
                {isTable(a) && (
                  <button class="small" onClick={() => setViewing(a)}>
                    View table
                  </button>
                )}
                <a class="button small" href={artifactUrl(p.studyId, trialId, a.artifact_id)} download={a.filename}>
                  Download
                </a>
                {p.canEdit && (
                  <button class="small danger" onClick={() => setConfirm(a)} aria-label={`Delete ${a.filename}`}>
                    Delete
                  </button>
                )}
              </span>
            </div>
          </div>
        ))}
        {p.canEdit && p.available && (
          <div
            class={`artifact-card uploader ${drag ? "drag" : ""}`}
            onDragOver={(e) => {
              e.preventDefault();
              setDrag(true);
            }}
            onDragLeave={() => setDrag(false)}
            onDrop={(e) => {
              e.preventDefault();
              setDrag(false);
              if (e.dataTransfer?.files.length) void upload(e.dataTransfer.files);
            }}
          >
            <label>
              {busy ? "Uploading…" : "Drop a file here or choose one"}
              <input
                ref={input}
                type="file"
                multiple
                aria-label="Upload artifact"
                disabled={busy}
                onChange={(e) => {
                  const f = (e.currentTarget as HTMLInputElement).files;
                  if (f && f.length) void upload(f).then(() => input.current && (input.current.value = ""));
                }}
              />
            </label>
          </div>
        )}
      </div>
      {p.artifacts.length === 0 && !p.canEdit && <p class="muted">No artifacts.</p>}
      {confirm && (
        <Confirm
          title="Delete artifact"
          message={<p>Delete {confirm.filename}? The file is removed from the artifact store.</p>}
          confirm="Delete"
          danger
          onConfirm={() => void remove(confirm)}
          onCancel={() => setConfirm(null)}
        />
      )}
      {viewing && <TableViewer studyId={p.studyId} trialId={trialId} a={viewing} onClose={() => setViewing(null)} />}
    </section>
  );
}

/** Parses CSV (RFC 4180 quoting) into rows. */
export function parseCsv(text: string, limit = 5000): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else q = false;
      } else cell += c;
    } else if (c === '"') q = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      if (rows.length >= limit) return rows;
    } else cell += c;
  }
  if (cell !== "" || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

async function readText(res: Response): Promise<string> {
  const buf = new Uint8Array(await res.arrayBuffer());
  if (buf[0] === 0x1f && buf[1] === 0x8b && "DecompressionStream" in window) {
    const ds = new Blob([buf]).stream().pipeThrough(new DecompressionStream("gzip"));
    return await new Response(ds).text();
  }
  return new TextDecoder().decode(buf);
}

function TableViewer(p: { studyId: number; trialId: number | null; a: Artifact; onClose: () => void }) {
  const [rows, setRows] = useState<string[][] | null>(null);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => {
    void fetch(artifactUrl(p.studyId, p.trialId, p.a.artifact_id))
      .then(async (r) => {
        if (!r.ok) throw new Error(`${r.status} ${r.statusText}`);
        const text = await readText(r);
        if (isTable(p.a) === "csv") setRows(parseCsv(text));
        else {
          const objs = text
            .split("\n")
            .filter((l) => l.trim())
            .slice(0, 5000)
            .map((l) => JSON.parse(l) as Record<string, unknown>);
          const keys = Array.from(new Set(objs.flatMap((o) => Object.keys(o))));
          setRows([keys, ...objs.map((o) => keys.map((k) => (o[k] === undefined ? "" : typeof o[k] === "string" ? (o[k] as string) : JSON.stringify(o[k]))))]);
        }
      })
      .catch((e) => setErr(String(e.message ?? e)));
  }, []);
  return (
    <Modal title={p.a.filename} onClose={p.onClose} wide>
      {err && <p class="error">Could not read the file: {err}</p>}
      {!rows && !err && <p>Loading…</p>}
      {rows && (
        <div class="table-scroll">
          <table class="data">
            <thead>
              <tr>
                {rows[0]?.map((h) => (
                  <th>{h}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.slice(1).map((r) => (
                <tr>
                  {r.map((c) => (
                    <td>{c}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {rows.length >= 5000 && <p class="muted">Showing the first 5,000 rows.</p>}
        </div>
      )}
    </Modal>
  );
}
