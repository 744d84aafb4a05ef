// JSON shapes of the optuna-dashboard-compatible API (reference §4) plus loupe's
// additions (docs/api.md), and the small normalised forms the app derives from them.

export type Direction = "minimize" | "maximize";
export type TrialState = "Running" | "Complete" | "Pruned" | "Fail" | "Waiting";
export const STATES: TrialState[] = ["Complete", "Pruned", "Fail", "Running", "Waiting"];

/** A number as the server sends it: NaN and infinities arrive as strings. */
export type WireNumber = number | string;

export interface Attr {
  key: string;
  value: string;
}

export interface TrialCounts {
  running: number;
  complete: number;
  pruned: number;
  fail: number;
  waiting: number;
}

export interface StudySummary {
  study_id: number;
  study_name: string;
  directions: Direction[];
  user_attrs: Attr[];
  is_preferential: boolean;
  trial_counts?: TrialCounts;
  best_values?: WireNumber[] | null;
  datetime_start?: string | null;
  datetime_last_activity?: string | null;
  metric_names?: string[] | null;
}

export type Distribution =
  | { type: "FloatDistribution"; low: number; high: number; step: number | null; log: boolean }
  | { type: "IntDistribution"; low: number; high: number; step: number; log: boolean }
  | { type: "CategoricalDistribution"; choices: { pytype: string; value: string }[] };

export interface Param {
  name: string;
  param_internal_value: WireNumber;
  param_external_value: string;
  param_external_pytyp?: string;
  distribution: Distribution;
}

export interface Note {
  version: number;
  body: string;
}

export interface Artifact {
  artifact_id: string;
  filename: string;
  mimetype: string;
  encoding: string | null;
}

export interface Trial {
  trial_id: number;
  study_id: number;
  number: number;
  state: TrialState;
  params: Param[];
  fixed_params: { name: string; param_external_value: string }[];
  user_attrs: Attr[];
  note: Note;
  artifacts: Artifact[];
  constraints: number[];
  intermediate_values: { step: number; value: WireNumber }[];
  values?: WireNumber[];
  datetime_start?: string;
  datetime_complete?: string;
}

export interface ChoiceWidget {
  type: "choice";
  description: string | null;
  choices: string[];
  values: number[];
  user_attr_key: string | null;
}
export interface SliderWidget {
  type: "slider";
  description: string | null;
  min: number;
  max: number;
  step: number | null;
  labels: { value: number; label: string }[] | null;
  user_attr_key: string | null;
}
export interface TextWidget {
  type: "text";
  description: string | null;
  user_attr_key: string | null;
  optional?: boolean;
}
export interface UserAttrRefWidget {
  type: "user_attr";
  key: string;
}
export type FormWidget = ChoiceWidget | SliderWidget | TextWidget | UserAttrRefWidget;

export interface FormWidgets {
  output_type: "objective" | "user_attr";
  widgets: FormWidget[];
}

export interface SearchSpaceItem {
  name: string;
  distribution: Distribution;
}

/** GET /api/studies/:id without `trials` (also the payload of the SSE `study` event). */
export interface StudyInfo {
  name: string;
  directions: Direction[];
  user_attrs: Attr[];
  artifacts: Artifact[];
  best_trials: Trial[];
  intersection_search_space: SearchSpaceItem[];
  union_search_space: SearchSpaceItem[];
  union_user_attrs: { key: string; sortable: boolean }[];
  has_intermediate_values: boolean;
  note: Note;
  is_preferential: boolean;
  objective_names?: string[];
  form_widgets?: FormWidgets;
  plotly_graph_objects?: { id: string; graph_object: string }[];
}

export interface StudyDetailWire extends StudyInfo {
  trials: Trial[];
}

export interface Meta {
  artifact_is_available: boolean;
  llm_is_available?: boolean;
  plotlypy_is_available?: boolean;
  allow_unsafe?: boolean;
}

export interface ParamImportance {
  name: string;
  importance: number;
  distribution: string;
}

/** Converts a wire number ("inf", "-inf", "nan" or a number) to a JS number. */
export function num(v: WireNumber | undefined | null): number {
  if (typeof v === "number") return v;
  if (v === "inf" || v === "Infinity") return Infinity;
  if (v === "-inf" || v === "-Infinity") return -Infinity;
  if (v === undefined || v === null) return NaN;
  const n = Number(v);
  return Number.isNaN(n) ? NaN : n;
}
