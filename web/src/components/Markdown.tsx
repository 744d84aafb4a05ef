// Renders sanitised Markdown (see lib/markdown.ts). `hideArtifacts` drops images of
// artifacts that the page already shows large (the rating queue's stage).
import { useMemo } from "preact/hooks";
import { renderMarkdown } from "../lib/markdown";

export function Markdown({ source, class: cls, hideArtifacts }: { source: string; class?: string; hideArtifacts?: string[] }) {
  const html = useMemo(() => {
    let h = renderMarkdown(source);
    for (const id of hideArtifacts ?? []) h = h.replace(new RegExp(`<img[^>]*src="[^"]*${id}[^"]*"[^>]*>`, "g"), "");
    return h;
  }, [source, (hideArtifacts ?? []).join()]);
  return <div class={`markdown ${cls ?? ""}`} dangerouslySetInnerHTML={{ __html: html }} />;
}
