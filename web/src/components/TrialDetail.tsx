// One trial in full: state, Fail, the rating form, values, params, intermediate values,
// times, user attrs, note (editable) and artifacts.
import { useLayoutEffect, useState } from "preact/hooks";
import { bestNumbers, duration, fmt, fmtDate, fmtDuration, objectiveNames, values } from "../lib/derive";
import type { StudyData } from "../lib/store";
import { useMeta } from "../lib/store";
import {
  finishedFormValues,
  initialFormValues,
  payloadOf,
  submit,
  undoLast,
  useOutbox,
  validate,
  type FormValue,
} from "../lib/ratings";
import type { Trial } from "../lib/types";
import { num } from "../lib/types";
import { ArtifactSection } from "./Artifacts";
import { FormWidgets } from "./FormWidgets";
import { NoteEditor } from "./NoteEditor";
import { BestChip, Confirm, StateChip } from "./ui";

export function TrialDetail({ s, trial }: { s: StudyData; trial: Trial }) {
  const meta = useMeta();
  const info = s.info!;
  const names = objectiveNames(info);
  const best = bestNumbers(s).has(trial.number);
  const fw = info.form_widgets;
  const outbox = useOutbox();
  const queued = outbox.find((p) => p.trial.trial_id === trial.trial_id);
  const [vals, setVals] = useState<FormValue[]>(() => (fw ? initialFormValues(fw, trial) : []));
  const [confirmFail, setConfirmFail] = useState(false);
  // Before paint: for a frame the form would show, and submit, the previous trial's values.
  useLayoutEffect(() => {
    if (fw) setVals(initialFormValues(fw, trial));
  }, [trial.trial_id, !!fw]);

  const running = trial.state === "Running";
  const editable = running && !queued;
  const showForm = fw && (running || trial.state === "Complete");
  const formVals = fw && !running ? finishedFormValues(fw, trial) : vals;
  const errors = fw ? validate(fw, formVals) : [];
  const v = values(trial);

  return (
    <article class="trial-detail" aria-label={`Trial ${trial.number}`}>
      <header class="trial-head">
        <h2>
          Trial {trial.number} <small>(trial_id={trial.trial_id})</small>
        </h2>
        <StateChip state={trial.state} />
        {best && <BestChip />}
        <span class="grow" />
        {running && (
          <button class="danger small" onClick={() => setConfirmFail(true)} disabled={!!queued}>
            Fail trial
          </button>
        )}
      </header>

      {showForm && fw && (
        <section class="card form-card" aria-label="Rating form">
          <FormWidgets
            fw={fw}
            objectiveNames={names}
            values={formVals}
            errors={errors}
            readOnly={!editable}
            idPrefix={`t${trial.trial_id}`}
            onChange={(i, x) => setVals(vals.map((y, k) => (k === i ? x : y)))}
          />
          {running && (
            <div class="row">
              {queued ? (
                <>
                  <span class="pending-msg">
                    {queued.sending ? "Sending…" : "Will be sent in a moment."}
                  </span>
                  {!queued.sending && (
                    <button
                      onClick={() => {
                        const p = undoLast(s.id);
                        if (p) setVals(p.formValues);
                      }}
                    >
                      Undo
                    </button>
                  )}
                </>
              ) : (
                <button class="primary" disabled={errors.some((e) => e)} onClick={() => submit(s.id, trial, payloadOf(fw, vals), vals)}>
                  Submit
                </button>
              )}
            </div>
          )}
        </section>
      )}

      <section class="card">
        <table class="kv">
          <tbody>
            <tr>
              <th>{v && v.length > 1 ? "Values" : "Value"}</th>
              <td>{v ? v.map((x, i) => <span class="val" title={names[i]}>{fmt(x)}</span>) : "None"}</td>
            </tr>
            {trial.state === "Waiting" && trial.fixed_params.length > 0
              ? trial.fixed_params.map((p) => (
                  <tr>
                    <th>{p.name} (fixed)</th>
                    <td>{p.param_external_value}</td>
                  </tr>
                ))
              : trial.params.map((p) => (
                  <tr>
                    <th>{p.name}</th>
                    <td>{p.param_external_value}</td>
                  </tr>
                ))}
            <tr>
              <th>Started</th>
              <td>{fmtDate(trial.datetime_start)}</td>
            </tr>
            <tr>
              <th>Completed</th>
              <td>{fmtDate(trial.datetime_complete)}</td>
            </tr>
            <tr>
              <th>Duration</th>
              <td>{fmtDuration(duration(trial))}</td>
            </tr>
            {trial.user_attrs.map((a) => (
              <tr>
                <th>{a.key} (user attr)</th>
                <td class="wrap">{a.value}</td>
              </tr>
            ))}
            {trial.constraints && trial.constraints.length > 0 && (
              <tr>
                <th>Constraints</th>
                <td>{trial.constraints.map((c) => fmt(c)).join(", ")}</td>
              </tr>
            )}
          </tbody>
        </table>
        {trial.intermediate_values.length > 0 && (
          <details>
            <summary>Intermediate values ({trial.intermediate_values.length})</summary>
            <table class="kv small">
              <thead>
                <tr>
                  <th>Step</th>
                  <th>Value</th>
                </tr>
              </thead>
              <tbody>
                {trial.intermediate_values.slice(0, 1000).map((iv) => (
                  <tr>
                    <td>{iv.step}</td>
                    <td>{fmt(num(iv.value))}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        )}
      </section>

      <NoteEditor studyId={s.id} trial={trial} note={trial.note} artifacts={trial.artifacts} title="Trial note" />

      <ArtifactSection
        studyId={s.id}
        trial={trial}
        artifacts={trial.artifacts}
        canEdit={trial.state === "Running" || trial.state === "Waiting"}
        available={!!meta?.artifact_is_available}
      />

      {confirmFail && (
        <Confirm
          title={`Fail trial ${trial.number}?`}
          message={<p>The trial becomes FAIL and cannot be rated afterwards.</p>}
          confirm="Fail trial"
          danger
          onCancel={() => setConfirmFail(false)}
          onConfirm={() => {
            setConfirmFail(false);
            submit(s.id, trial, { kind: "fail" }, [], 0);
          }}
        />
      )}
    </article>
  );
}
