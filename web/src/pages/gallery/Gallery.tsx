// Gallery: every trial's image artifact in trial order with its rating; the best trials
// outlined thickly; filters by state and rating; rows are virtualised for large studies.
import { useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { Empty, PartialBanner, StudyLoading } from "../../components/ui";
import { VirtualList } from "../../components/VirtualList";
import { artifactUrl } from "../../lib/api";
import { bestNumbers, memo, ratingLabel, values } from "../../lib/derive";
import { navigate } from "../../lib/router";
import { useStudy, view } from "../../lib/store";
import { STATES, type Trial } from "../../lib/types";

const CARD_W = 200;
const CARD_H = 196;

export function Gallery({ id }: { id: number }) {
  const s = view(useStudy(id));
  const [state, setState] = useState<string>("all");
  const [rating, setRating] = useState<string>("all");
  const [bestOnly, setBestOnly] = useState(false);
  const [index, setIndex] = useState(0);
  const [width, setWidth] = useState(1000);
  const wrap = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    setWidth(el.clientWidth);
    return () => ro.disconnect();
  }, [!!s.info]);

  const withImages = memo(s, "gallery-images", () => s.trials.filter((t) => t.artifacts.some((a) => a.mimetype.startsWith("image/"))));
  const maxImages = useMemo(() => withImages.reduce((m, t) => Math.max(m, t.artifacts.filter((a) => a.mimetype.startsWith("image/")).length), 0), [withImages]);
  const ratings = useMemo(() => {
    const set = new Map<string, string>();
    for (const t of withImages) if (t.values) set.set(JSON.stringify(values(t)), ratingLabel(s.info, t));
    return [...set.entries()].sort((a, b) => (JSON.parse(a[0])[0] as number) - (JSON.parse(b[0])[0] as number));
  }, [withImages, s.info]);
  const best = bestNumbers(s);
  const shown = useMemo(
    () =>
      withImages.filter(
        (t) =>
          (state === "all" || t.state === state) &&
          (rating === "all" || (t.values && JSON.stringify(values(t)) === rating)) &&
          (!bestOnly || best.has(t.number)),
      ),
    [withImages, state, rating, bestOnly, best],
  );

  if (s.error) return <p class="error">{s.error}</p>;
  if (!s.info) return <StudyLoading s={s} />;
  const perRow = Math.max(1, Math.floor(width / CARD_W));
  const rows = Math.ceil(shown.length / perRow);

  const card = (t: Trial) => {
    const imgs = t.artifacts.filter((a) => a.mimetype.startsWith("image/"));
    const a = imgs[Math.min(index, imgs.length - 1)];
    const isBest = best.has(t.number);
    return (
      <button
        class={`gcard ${isBest ? "best" : ""} state-${t.state.toLowerCase()}`}
        key={t.trial_id}
        onClick={() => navigate(`dashboard/studies/${id}/trials?numbers=${t.number}`)}
        aria-label={`Trial ${t.number}, ${t.state}${t.values ? ", rated " + ratingLabel(s.info, t) : ""}${isBest ? ", best" : ""}`}
      >
        <img src={artifactUrl(s.id, t.trial_id, a.artifact_id)} alt="" loading="lazy" decoding="async" />
        <span class="gcap">
          <b>#{t.number}</b> {t.state === "Complete" ? ratingLabel(s.info, t) : t.state}
          {isBest && <span class="star" aria-hidden="true"> ★</span>}
        </span>
      </button>
    );
  };

  return (
    <div class="page gallery">
      <div class="toolbar">
        <h1>Gallery</h1>
        {s.partial && <PartialBanner s={s} />}
        <label>
          State{" "}
          <select value={state} onChange={(e) => setState((e.currentTarget as HTMLSelectElement).value)}>
            <option value="all">All</option>
            {STATES.map((st) => (
              <option value={st}>{st}</option>
            ))}
          </select>
        </label>
        <label>
          Rating{" "}
          <select value={rating} onChange={(e) => setRating((e.currentTarget as HTMLSelectElement).value)}>
            <option value="all">Any</option>
            {ratings.map(([k, label]) => (
              <option value={k}>{label}</option>
            ))}
          </select>
        </label>
        <label class="inline">
          <input type="checkbox" checked={bestOnly} onChange={(e) => setBestOnly((e.currentTarget as HTMLInputElement).checked)} /> Best only
        </label>
        {maxImages > 1 && (
          <label>
            Image{" "}
            <select value={index} onChange={(e) => setIndex(Number((e.currentTarget as HTMLSelectElement).value))}>
              {Array.from({ length: maxImages }, (_, i) => (
                <option value={i}>{i + 1}</option>
              ))}
            </select>
          </label>
        )}
        <span class="muted">
          {shown.length.toLocaleString()} of {withImages.length.toLocaleString()} trials with images
        </span>
      </div>
      <div class="gallery-wrap" ref={wrap}>
        {withImages.length === 0 ? (
          <Empty>No trial has an image artifact yet.</Empty>
        ) : shown.length === 0 ? (
          <Empty>No trial matches these filters.</Empty>
        ) : (
          <VirtualList
            class="gallery-list"
            count={rows}
            rowHeight={CARD_H}
            label="Trial images"
            render={(r) => <div class="grow-row">{shown.slice(r * perRow, r * perRow + perRow).map(card)}</div>}
          />
        )}
      </div>
    </div>
  );
}
