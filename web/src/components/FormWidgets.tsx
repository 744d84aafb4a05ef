// The study's rating form (choice, slider, text, user-attr reference), editable for a
// Running trial and read-only for a finished one. Keyboard handling lives in the pages;
// this component only shows which widget is active and the key for each choice.
import type { FormValue } from "../lib/ratings";
import type { FormWidget, FormWidgets as FW } from "../lib/types";
import { fmt } from "../lib/derive";

export function widgetName(fw: FW, w: FormWidget, i: number, objectiveNames: string[]): string {
  let name: string;
  if (fw.output_type === "objective") name = objectiveNames[i] ?? `Objective ${i}`;
  else name = (w as any).user_attr_key ?? (w as any).key ?? `Field ${i}`;
  const desc = (w as any).description as string | null | undefined;
  return desc ? `${name} - ${desc}` : name;
}

export function sliderStep(w: { step: number | null }): number {
  return w.step ?? 0.01;
}

interface Props {
  fw: FW;
  objectiveNames: string[];
  values: FormValue[];
  errors?: string[];
  readOnly?: boolean;
  active?: number;
  idPrefix: string;
  onChange?: (i: number, v: FormValue) => void;
  onActive?: (i: number) => void;
  large?: boolean;
}

export function FormWidgets(p: Props) {
  const title =
    p.fw.output_type === "user_attr" ? "Set User Attributes" : p.fw.widgets.length > 1 ? "Set Objective Values" : "Set Objective Value";
  return (
    <div class={`form-widgets ${p.large ? "large" : ""}`} aria-label={title} role="group">
      {p.fw.widgets.map((w, i) => {
        const id = `${p.idPrefix}-w${i}`;
        const name = widgetName(p.fw, w, i, p.objectiveNames);
        const isActive = p.active === i && !p.readOnly;
        const err = p.errors?.[i];
        return (
          <fieldset class={`widget ${isActive ? "active" : ""}`} key={i} onFocusIn={() => p.onActive?.(i)}>
            <legend id={`${id}-label`}>{name}</legend>
            {w.type === "choice" && (
              <div class="choices" role="radiogroup" aria-labelledby={`${id}-label`}>
                {w.choices.map((c, k) => {
                  const checked = p.values[i] === w.values[k];
                  return (
                    <label class={`choice ${checked ? "checked" : ""}`} key={k}>
                      <input
                        type="radio"
                        name={id}
                        checked={checked}
                        disabled={p.readOnly}
                        onChange={() => p.onChange?.(i, w.values[k])}
                      />
                      {!p.readOnly && k < 10 && <kbd aria-hidden="true">{(k + 1) % 10}</kbd>}
                      <span>{c}</span>
                    </label>
                  );
                })}
              </div>
            )}
            {w.type === "slider" && (
              <div class="slider">
                <input
                  id={id}
                  type="range"
                  min={w.min}
                  max={w.max}
                  step={sliderStep(w)}
                  value={typeof p.values[i] === "number" ? (p.values[i] as number) : w.min}
                  disabled={p.readOnly}
                  aria-labelledby={`${id}-label`}
                  list={w.labels ? `${id}-marks` : undefined}
                  onInput={(e) => p.onChange?.(i, Number((e.currentTarget as HTMLInputElement).value))}
                />
                <output for={id}>{typeof p.values[i] === "number" ? fmt(p.values[i] as number) : "–"}</output>
                {w.labels && (
                  <>
                    <datalist id={`${id}-marks`}>
                      {w.labels.map((l) => (
                        <option value={l.value} label={l.label} />
                      ))}
                    </datalist>
                    <div class="marks" aria-hidden="true">
                      {w.labels.map((l) => (
                        <span style={{ left: `${((l.value - w.min) / (w.max - w.min || 1)) * 100}%` }}>{l.label}</span>
                      ))}
                    </div>
                  </>
                )}
              </div>
            )}
            {w.type === "text" && (
              <input
                id={id}
                class="text"
                type="text"
                inputMode={p.fw.output_type === "objective" ? "decimal" : "text"}
                aria-labelledby={`${id}-label`}
                value={(p.values[i] as string) ?? ""}
                readOnly={p.readOnly}
                placeholder={p.fw.output_type === "objective" ? "a number" : w.optional ? "optional" : "text"}
                onInput={(e) => p.onChange?.(i, (e.currentTarget as HTMLInputElement).value)}
              />
            )}
            {w.type === "user_attr" && (
              <output class="ref" aria-labelledby={`${id}-label`}>
                {p.values[i] ?? "–"}
                <small> (from trial.user_attrs[{w.key}])</small>
              </output>
            )}
            {err && !p.readOnly && w.type !== "choice" && <p class="hint">{err}</p>}
          </fieldset>
        );
      })}
    </div>
  );
}
