// A fixed-row-height virtual scroller: only the visible rows (plus overscan) exist in
// the DOM, so 100,000 rows cost the same as 30.
import type { ComponentChildren } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";

interface Props {
  count: number;
  rowHeight: number;
  render: (index: number) => ComponentChildren;
  class?: string;
  overscan?: number;
  /** Scroll so this row is visible when it changes. */
  scrollTo?: number | null;
  label?: string;
  onKeyDown?: (e: KeyboardEvent) => void;
}

export function VirtualList(p: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  const [height, setHeight] = useState(600);
  const over = p.overscan ?? 8;

  useLayoutEffect(() => {
    const el = ref.current!;
    setHeight(el.clientHeight || 600);
    const ro = new ResizeObserver(() => setHeight(el.clientHeight || 600));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    if (p.scrollTo === null || p.scrollTo === undefined) return;
    const el = ref.current!;
    const y = p.scrollTo * p.rowHeight;
    if (y < el.scrollTop || y + p.rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = Math.max(0, y - el.clientHeight / 3);
  }, [p.scrollTo]);

  const first = Math.max(0, Math.floor(top / p.rowHeight) - over);
  const last = Math.min(p.count, Math.ceil((top + height) / p.rowHeight) + over);
  const rows: ComponentChildren[] = [];
  for (let i = first; i < last; i++) {
    rows.push(
      <div class="vrow" role="listitem" key={i} style={{ transform: `translateY(${i * p.rowHeight}px)`, height: `${p.rowHeight}px` }}>
        {p.render(i)}
      </div>,
    );
  }
  return (
    <div
      ref={ref}
      class={`vlist ${p.class ?? ""}`}
      onScroll={(e) => setTop((e.currentTarget as HTMLDivElement).scrollTop)}
      role="list"
      aria-label={p.label}
      tabIndex={0}
      onKeyDown={p.onKeyDown as any}
    >
      <div class="vspace" style={{ height: `${p.count * p.rowHeight}px` }}>
        {rows}
      </div>
    </div>
  );
}
