// Client-side routing under "<base>/dashboard/": paths are kept relative to
// document.baseURI so the app runs under any server base path.
import { Listeners, useListened } from "./listeners";

export interface Location {
  /** Path below the base, without leading slash, e.g. "dashboard/studies/3/trials". */
  path: string;
  query: URLSearchParams;
}

function basePath(): string {
  return new URL(document.baseURI).pathname.replace(/\/?$/, "/");
}

export function currentLocation(): Location {
  const base = basePath();
  let p = window.location.pathname;
  if (p.startsWith(base)) p = p.slice(base.length);
  else p = p.replace(/^\/+/, "");
  return { path: p.replace(/\/+$/, ""), query: new URLSearchParams(window.location.search) };
}

const listeners = new Listeners();
window.addEventListener("popstate", () => listeners.notify());

/** Absolute href for an app path such as "dashboard/studies/1". */
export function href(path: string): string {
  return new URL(path.replace(/^\/+/, ""), document.baseURI).pathname + (path.includes("?") ? "?" + path.split("?")[1] : "");
}

export function navigate(path: string, replace = false): void {
  const target = href(path);
  if (target === window.location.pathname + window.location.search) return;
  if (replace) history.replaceState(null, "", target);
  else history.pushState(null, "", target);
  listeners.notify();
  if (!replace) window.scrollTo(0, 0);
}

/** Replaces the query string of the current location without adding history. */
export function setQuery(params: Record<string, string | null>): void {
  const q = new URLSearchParams(window.location.search);
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === "") q.delete(k);
    else q.set(k, v);
  }
  const s = q.toString();
  history.replaceState(null, "", window.location.pathname + (s ? "?" + s : ""));
  listeners.notify();
}

const sameLocation = (a: Location, b: Location) => a.path === b.path && a.query.toString() === b.query.toString();

export function useLocation(): Location {
  return useListened(listeners, currentLocation, [], sameLocation);
}

/** Intercepts clicks on in-app links (<a data-nav>) so they route without reloading. */
export function installLinkInterceptor(): void {
  document.addEventListener("click", (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element).closest?.("a[data-nav]") as HTMLAnchorElement | null;
    if (!a) return;
    const u = new URL(a.href);
    if (u.origin !== window.location.origin) return;
    e.preventDefault();
    const base = basePath();
    const p = u.pathname.startsWith(base) ? u.pathname.slice(base.length) : u.pathname.replace(/^\/+/, "");
    navigate(p + u.search);
  });
}
