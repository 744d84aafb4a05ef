// Safe Markdown: markdown-it with raw HTML off, then DOMPurify. javascript:, vbscript:
// and data: (except images) links are dropped, and artifact links written by Python
// (`/artifacts/...`) are resolved against the app's base so they work under a base path.
import MarkdownIt from "markdown-it";
import DOMPurify from "dompurify";
import { url } from "./api";

const md = new MarkdownIt({ html: false, linkify: true, breaks: false });

const SAFE_LINK = /^(https?:|mailto:|#|\/|\.{0,2}\/|[^:]*$)/i;
const SAFE_IMG = /^(https?:|blob:|data:image\/(png|jpe?g|gif|webp);|\/|\.{0,2}\/|[^:]*$)/i;

// markdown-it already refuses javascript: links; the sanitizer below is the second wall.
md.validateLink = (u: string) => {
  const s = u.trim().toLowerCase();
  return !(s.startsWith("javascript:") || s.startsWith("vbscript:") || s.startsWith("file:") || (s.startsWith("data:") && !/^data:image\/(png|jpe?g|gif|webp);/.test(s)));
};

function rewrite(u: string): string {
  // "/artifacts/1/2/<id>" from get_artifact_path() is relative to the dashboard's root.
  if (u.startsWith("/artifacts/")) return url(u.slice(1));
  return u;
}

let hooked = false;
function hook(): void {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook("afterSanitizeAttributes", (node: Element) => {
    if (node.tagName === "A") {
      const h = node.getAttribute("href") ?? "";
      if (!SAFE_LINK.test(h.trim())) node.removeAttribute("href");
      else node.setAttribute("href", rewrite(h));
      if (/^https?:/i.test(h)) {
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", "noopener noreferrer");
      }
    }
    if (node.tagName === "IMG") {
      const s = node.getAttribute("src") ?? "";
      if (!SAFE_IMG.test(s.trim())) node.removeAttribute("src");
      else node.setAttribute("src", rewrite(s));
      node.setAttribute("loading", "lazy");
    }
  });
}

export function renderMarkdown(src: string): string {
  hook();
  const html = md.render(src ?? "");
  return DOMPurify.sanitize(html, {
    FORBID_TAGS: ["style", "script", "iframe", "object", "embed", "form", "input", "button"],
    FORBID_ATTR: ["style", "onerror", "onload", "onclick"],
  });
}
