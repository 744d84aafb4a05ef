// Study note page: the study's Markdown note with editor and preview, and the study's
// own artifacts (which the note can show as images).
import { ArtifactSection } from "../../components/Artifacts";
import { NoteEditor } from "../../components/NoteEditor";
import { Spinner } from "../../components/ui";
import { useMeta, useStudy } from "../../lib/store";

export function NotePage({ id }: { id: number }) {
  const s = useStudy(id);
  const meta = useMeta();
  if (s.error) return <p class="error">{s.error}</p>;
  if (!s.info) return <Spinner label="Loading study…" />;
  return (
    <div class="page note-page">
      <NoteEditor studyId={id} trial={null} note={s.info.note} artifacts={s.info.artifacts} title="Study note" tall />
      {s.info.user_attrs.length > 0 && (
        <section class="card">
          <h3>Study user attributes</h3>
          <table class="kv">
            <tbody>
              {s.info.user_attrs.map((a) => (
                <tr>
                  <th>{a.key}</th>
                  <td class="wrap">{a.value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      <ArtifactSection studyId={id} trial={null} artifacts={s.info.artifacts ?? []} canEdit available={!!meta?.artifact_is_available} />
    </div>
  );
}
