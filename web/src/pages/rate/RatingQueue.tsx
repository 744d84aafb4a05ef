// The rating queue: the next RUNNING trial that needs a rating, shown large with its
// artifacts and note, rated from the keyboard. A rating goes to the outbox (undo window)
// and the next trial is on screen in the same frame; new trials arrive over SSE.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { ArtifactMedia } from "../../components/Artifacts";
import { FormWidgets, sliderStep } from "../../components/FormWidgets";
import { Markdown } from "../../components/Markdown";
import { Confirm, Empty, Link, Spinner } from "../../components/ui";
import { artifactUrl } from "../../lib/api";
import { bestNumbers, counts, fmt, objectiveNames, ratingLabel, values } from "../../lib/derive";
import { initialFormValues, isQueued, payloadOf, sendNow, submit, undoLast, useOutbox, validate, type FormValue } from "../../lib/ratings";
import { liveTrials, useStudy, type StudyData } from "../../lib/store";
import { toast } from "../../lib/toast";
import type { FormWidgets as FW, Trial } from "../../lib/types";

function needsRating(fw: FW, t: Trial): boolean {
  if (t.state !== "Running" || isQueued(t.trial_id)) return false;
  if (fw.output_type === "objective") return true;
  // A user-attr form leaves the trial Running: it is done once every key is set.
  return !fw.widgets.every((w) => {
    const k = (w as any).user_attr_key as string | null;
    return !k || t.user_attrs.some((a) => a.key === k);
  });
}

function queue(s: StudyData, fw: FW, skipped: number[]): Trial[] {
  const out: Trial[] = [];
  const skippedSet = new Set(skipped);
  const trials = liveTrials(s);
  for (const t of trials) if (!skippedSet.has(t.trial_id) && needsRating(fw, t)) out.push(t);
  for (const id of skipped) {
    const t = trials.find((x) => x.trial_id === id);
    if (t && needsRating(fw, t)) out.push(t);
  }
  return out;
}

function isTyping(e: KeyboardEvent): boolean {
  const el = e.target as HTMLElement;
  return el && (el.tagName === "TEXTAREA" || el.tagName === "SELECT" || (el.tagName === "INPUT" && !["radio", "checkbox", "range"].includes((el as HTMLInputElement).type)));
}

export function RatingQueue({ id }: { id: number }) {
  const s = useStudy(id);
  const outbox = useOutbox();
  const [skipped, setSkipped] = useState<number[]>([]);
  const [currentId, setCurrentId] = useState<number | null>(null);
  const [vals, setVals] = useState<FormValue[]>([]);
  const [active, setActive] = useState(0);
  const [failing, setFailing] = useState(false);
  const [help, setHelp] = useState(localStorage.getItem("loupe.keysHelp") !== "0");
  const [session, setSession] = useState(0);
  const restored = useRef<{ trialId: number; vals: FormValue[] } | null>(null);
  const stage = useRef<HTMLDivElement>(null);
  const info = s.info;
  const fw = info?.form_widgets;

  const q = useMemo(() => (fw ? queue(s, fw, skipped) : []), [s.version, outbox, skipped, fw]);
  const current = q.find((t) => t.trial_id === currentId) ?? q[0] ?? null;

  // A new current trial gets fresh form values (or the ones an undo brought back) and is
  // pinned. A layout effect, so it runs before the next key press: a plain effect runs
  // after paint, and an undo pressed in between was overridden by this pin.
  useLayoutEffect(() => {
    if (!fw || !current) return;
    if (restored.current && restored.current.trialId === current.trial_id) {
      setVals(restored.current.vals);
      restored.current = null;
    } else setVals(initialFormValues(fw, current));
    setActive(0);
    setCurrentId(current.trial_id);
  }, [current?.trial_id, fw]);

  // Warm the cache for the next trials' images so they appear at once.
  useEffect(() => {
    for (const t of q.slice(1, 3))
      for (const a of t.artifacts) if (a.mimetype.startsWith("image/")) new Image().src = artifactUrl(s.id, t.trial_id, a.artifact_id);
  }, [q]);

  const errors = fw && current ? validate(fw, vals) : [];
  const valid = errors.every((e) => !e);

  const doSubmit = (v: FormValue[] = vals) => {
    if (!fw || !current) return;
    if (validate(fw, v).some((e) => e)) {
      toast("Fill in every field first.", "error");
      return;
    }
    submit(s.id, current, payloadOf(fw, v), v);
    setSession((n) => n + 1);
    setCurrentId(null);
  };
  const doSkip = () => {
    if (!current) return;
    setSkipped([...skipped.filter((x) => x !== current.trial_id), current.trial_id]);
    setCurrentId(null);
  };
  const doUndo = () => {
    const p = undoLast(s.id);
    if (!p) {
      toast("Nothing to undo: ratings already sent cannot be taken back (a finished trial cannot be re-opened).", "info");
      return;
    }
    if (p.payload.kind !== "fail") setSession((n) => Math.max(0, n - 1));
    restored.current = { trialId: p.trial.trial_id, vals: p.formValues };
    setSkipped(skipped.filter((x) => x !== p.trial.trial_id));
    setCurrentId(p.trial.trial_id);
    if (current && current.trial_id === p.trial.trial_id) setVals(p.formValues);
    toast(`Took back the rating of trial ${p.trial.number}.`, "info", 2000);
  };

  // One listener for the page's life, calling the handler of the latest render: one
  // re-registered in an effect would, until that effect ran, answer keys with an older
  // render's trial and form values.
  const onKeyRef = useRef<(e: KeyboardEvent) => void>(() => {});
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => onKeyRef.current(e);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  onKeyRef.current = (e: KeyboardEvent) => {
    if (!fw || failing || e.metaKey || e.altKey) return;
    if (e.ctrlKey) {
      // Ctrl+Z is undo; other Ctrl combinations belong to the browser.
      if (e.key === "z" && !isTyping(e)) {
        e.preventDefault();
        doUndo();
      }
      return;
    }
    const v = vals;
    const w = fw.widgets[active];
    if (isTyping(e)) {
      if (e.key === "Enter") {
        e.preventDefault();
        doSubmit();
      } else if (e.key === "Escape") (e.target as HTMLElement).blur();
      return;
    }
    const key = e.key;
    if (/^[0-9]$/.test(key) && current) {
      if (w?.type !== "choice") return;
      const k = key === "0" ? 9 : Number(key) - 1;
      if (k >= w.choices.length) return;
      e.preventDefault();
      const nv = v.map((x, i) => (i === active ? w.values[k] : x));
      setVals(nv);
      if (fw.widgets.length === 1) doSubmit(nv);
      else if (active < fw.widgets.length - 1) setActive(active + 1);
      return;
    }
    switch (key) {
      case "ArrowLeft":
      case "ArrowRight": {
        if (w?.type !== "slider" || !current) return;
        e.preventDefault();
        const st = sliderStep(w) * (e.shiftKey ? 10 : 1);
        const cur = typeof v[active] === "number" ? (v[active] as number) : w.min;
        const nx = Math.min(w.max, Math.max(w.min, Math.round((cur + (key === "ArrowRight" ? st : -st)) / sliderStep(w)) * sliderStep(w)));
        setVals(v.map((x, i) => (i === active ? Number(nx.toPrecision(12)) : x)));
        return;
      }
      case "ArrowUp":
        e.preventDefault();
        setActive(Math.max(0, active - 1));
        return;
      case "ArrowDown":
        e.preventDefault();
        setActive(Math.min(fw.widgets.length - 1, active + 1));
        return;
      case "Tab":
        if (fw.widgets.length > 1 && !e.shiftKey && document.activeElement === document.body) {
          e.preventDefault();
          setActive((active + 1) % fw.widgets.length);
        }
        return;
      case "Enter":
        if ((e.target as HTMLElement).tagName === "BUTTON" || (e.target as HTMLElement).tagName === "A") return;
        e.preventDefault();
        doSubmit();
        return;
      case "s":
      case "n":
        e.preventDefault();
        doSkip();
        return;
      case "f":
        if (!current) return;
        e.preventDefault();
        setFailing(true);
        return;
      case "u":
      case "Backspace":
        e.preventDefault();
        doUndo();
        return;
      case "?":
        setHelp((h) => !h);
        return;
      case " ": {
        const m = stage.current?.querySelector("audio, video") as HTMLMediaElement | null;
        if (m) {
          e.preventDefault();
          if (m.paused) void m.play();
          else m.pause();
        }
        return;
      }
      case "t": {
        const t = document.querySelector<HTMLInputElement>(".rate-form input.text");
        if (t) {
          e.preventDefault();
          t.focus();
        }
        return;
      }
    }
  };

  // Focus the text field when the active widget is one.
  useEffect(() => {
    if (fw?.widgets[active]?.type === "text") document.querySelector<HTMLInputElement>(`#rq-w${active}`)?.focus();
  }, [active, current?.trial_id]);

  if (s.error) return <p class="error">{s.error}</p>;
  if (!info) return <Spinner label="Loading study…" />;
  if (!fw)
    return (
      <div class="page">
        <Empty>
          <p>This study has no rating form.</p>
          <p class="muted">
            A script registers one with <code>register_objective_form_widgets()</code> or <code>register_user_attr_form_widgets()</code>; it appears here at once.
          </p>
          <p>
            <Link to={`dashboard/studies/${id}/plots`}>See the plots</Link> · <Link to={`dashboard/studies/${id}/trials`}>Trials</Link>
          </p>
        </Empty>
      </div>
    );

  const c = counts(s);
  const names = objectiveNames(info);
  const best = info.best_trials;
  const bestSet = bestNumbers(s);
  const last = outbox.filter((p) => p.studyId === s.id).slice(-1)[0];

  return (
    <div class="page rate">
      <section class="rate-stage" ref={stage} aria-label={current ? `Trial ${current.number}` : "No trial waiting"}>
        {current ? (
          <>
            {current.artifacts.length > 0 && (
              <div class={`stage-media n${Math.min(current.artifacts.length, 4)}`}>
                {current.artifacts.map((a) => (
                  <figure key={a.artifact_id}>
                    <ArtifactMedia studyId={s.id} trialId={current.trial_id} a={a} large />
                    <figcaption>{a.filename}</figcaption>
                  </figure>
                ))}
              </div>
            )}
            {current.note.body.trim() && <Markdown source={current.note.body} class={`stage-note ${current.artifacts.length ? "with-media" : ""}`} hideArtifacts={current.artifacts.map((a) => a.artifact_id)} />}
            {current.artifacts.length === 0 && !current.note.body.trim() && (
              <div class="stage-params">
                {current.params.map((p) => (
                  <div>
                    <span class="muted">{p.name}</span> {p.param_external_value}
                  </div>
                ))}
              </div>
            )}
          </>
        ) : (
          <Empty>
            <p class="big">No trial is waiting for a rating.</p>
            <p class="muted">The next one appears here the moment your script creates it.</p>
            {last && <p class="muted">Your last rating is being sent.</p>}
          </Empty>
        )}
      </section>

      <aside class="rate-panel" aria-label="Rating">
        {current && (
          <div class="rate-head">
            <h1>
              Trial {current.number}
            </h1>
            <span class="muted">{q.length > 1 ? `${q.length - 1} more waiting` : "last one waiting"}</span>
            {skipped.includes(current.trial_id) && <span class="chip">skipped before</span>}
          </div>
        )}
        {current && (
          <div class="rate-form">
            <FormWidgets
              fw={fw}
              objectiveNames={names}
              values={vals}
              errors={errors}
              active={active}
              idPrefix="rq"
              large
              onChange={(i, x) => setVals(vals.map((y, k) => (k === i ? x : y)))}
              onActive={setActive}
            />
            <div class="row">
              <button class="primary" disabled={!valid} onClick={() => doSubmit()}>
                Submit <kbd>Enter</kbd>
              </button>
              <button onClick={doSkip}>
                Skip <kbd>S</kbd>
              </button>
              <button class="danger" onClick={() => setFailing(true)}>
                Fail <kbd>F</kbd>
              </button>
            </div>
          </div>
        )}

        {last && (
          <div class="undo-bar" role="status" key={last.seq}>
            <span>
              Trial {last.trial.number}: {last.payload.kind === "fail" ? "Fail" : last.payload.kind === "tell" ? last.payload.values!.map((v, i) => labelFor(fw, i, v)).join(", ") : "attributes set"}
              {last.sending ? " — sending…" : ""}
            </span>
            {!last.sending && (
              <>
                <button class="small" onClick={doUndo}>
                  Undo <kbd>U</kbd>
                </button>
                <button class="small" onClick={() => sendNow(last)}>
                  Send now
                </button>
              </>
            )}
            {!last.sending && <span class="countdown" style={{ animationDuration: `${Math.max(0, last.dueAt - Date.now())}ms` }} />}
          </div>
        )}

        <dl class="progress" aria-label="Progress">
          <div>
            <dt>Rated</dt>
            <dd>{c.Complete.toLocaleString()}</dd>
          </div>
          <div>
            <dt>This session</dt>
            <dd>{session}</dd>
          </div>
          <div>
            <dt>Running</dt>
            <dd>{c.Running.toLocaleString()}</dd>
          </div>
          <div>
            <dt>{info.directions.length > 1 ? "Pareto front" : "Best so far"}</dt>
            <dd>
              {info.directions.length > 1
                ? `${bestSet.size} trials`
                : best.length
                  ? (
                    <Link to={`dashboard/studies/${id}/trials?numbers=${best[0].number}`}>
                      {ratingLabel(info, best[0])} <small>(#{best[0].number})</small>
                    </Link>
                  )
                  : "–"}
            </dd>
          </div>
        </dl>

        <details class="keys" open={help} onToggle={(e) => {
            const o = (e.currentTarget as HTMLDetailsElement).open;
            localStorage.setItem("loupe.keysHelp", o ? "1" : "0");
            setHelp(o);
          }}>
          <summary>Keyboard</summary>
          <ul>
            {fw.widgets.some((w) => w.type === "choice") && (
              <li>
                <kbd>1</kbd>…<kbd>9</kbd> pick a choice{fw.widgets.length === 1 && fw.widgets[0].type === "choice" ? " and submit" : ""}
              </li>
            )}
            {fw.widgets.some((w) => w.type === "slider") && (
              <li>
                <kbd>←</kbd> <kbd>→</kbd> move a slider (<kbd>Shift</kbd> ×10)
              </li>
            )}
            <li>
              <kbd>↑</kbd> <kbd>↓</kbd> previous / next field; <kbd>T</kbd> type in a text field
            </li>
            <li>
              <kbd>Enter</kbd> submit, <kbd>S</kbd> skip, <kbd>F</kbd> fail (asks first)
            </li>
            <li>
              <kbd>U</kbd> undo the last rating while it has not been sent (Settings: undo window)
            </li>
            <li>
              <kbd>Space</kbd> play / pause audio or video
            </li>
          </ul>
        </details>
        {current && values(current) === null && current.params.length > 0 && (
          <details class="params">
            <summary>Parameters</summary>
            <table class="kv small">
              <tbody>
                {current.params.map((p) => (
                  <tr>
                    <th>{p.name}</th>
                    <td>{p.param_external_value}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        )}
      </aside>

      {failing && current && (
        <Confirm
          title={`Fail trial ${current.number}?`}
          message={<p>The trial becomes FAIL and will not be rated. Press Enter to confirm, Escape to cancel.</p>}
          confirm="Fail trial"
          danger
          onCancel={() => setFailing(false)}
          onConfirm={() => {
            setFailing(false);
            submit(s.id, current, { kind: "fail" }, vals);
            setCurrentId(null);
          }}
        />
      )}
    </div>
  );
}

function labelFor(fw: FW, i: number, v: number): string {
  const w = fw.widgets[i];
  if (w && w.type === "choice") {
    const k = w.values.indexOf(v);
    if (k >= 0) return w.choices[k];
  }
  return fmt(v);
}
