// Typed client for loupe's HTTP API. Every URL is resolved against document.baseURI so
// the app works under any --base-path; 204 answers have no body and are not parsed.
import type {
  Artifact,
  Direction,
  Meta,
  Note,
  ParamImportance,
  StudyDetailWire,
  StudySummary,
} from "./types";

/** Absolute URL of a server path given relative to the app's base ("api/meta"). */
export function url(path: string): string {
  return new URL(path.replace(/^\/+/, ""), document.baseURI).toString();
}

export class ApiError extends Error {
  status: number;
  body: any;
  constructor(status: number, message: string, body: any) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

async function request<T>(method: string, path: string, body?: unknown, raw?: Blob | File): Promise<T> {
  const init: RequestInit = { method, headers: {}, credentials: "same-origin" };
  if (raw !== undefined) {
    init.body = raw;
    (init.headers as Record<string, string>)["Content-Type"] = raw.type || "application/octet-stream";
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
  }
  let res: Response;
  try {
    res = await fetch(url(path), init);
  } catch (e) {
    throw new ApiError(0, `The server did not answer (${(e as Error).message}); is loupe dashboard still running?`, null);
  }
  const text = res.status === 204 ? "" : await res.text();
  let parsed: any = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (!res.ok) {
    const reason = parsed && typeof parsed === "object" && parsed.reason ? parsed.reason : `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, reason, parsed);
  }
  return parsed as T;
}

export const api = {
  meta: () => request<Meta>("GET", "api/meta"),
  studies: () => request<{ study_summaries: StudySummary[] }>("GET", "api/studies"),
  study: (id: number) => request<StudyDetailWire>("GET", `api/studies/${id}`),
  studyAfter: (id: number, after: number) => request<StudyDetailWire>("GET", `api/studies/${id}?after=${after}`),
  createStudy: (study_name: string, directions: Direction[]) =>
    request<{ study_summary: StudySummary }>("POST", "api/studies", { study_name, directions }),
  renameStudy: (id: number, study_name: string) =>
    request<StudySummary>("POST", `api/studies/${id}/rename`, { study_name }),
  deleteStudy: (id: number, remove_associated_artifacts: boolean) =>
    request<void>("DELETE", `api/studies/${id}`, { remove_associated_artifacts }),
  importances: (id: number) =>
    request<{ param_importances: ParamImportance[][] }>("GET", `api/studies/${id}/param_importances`),
  saveStudyNote: (id: number, note: Note) => request<void>("PUT", `api/studies/${id}/note`, note),
  saveTrialNote: (studyId: number, trialId: number, note: Note) =>
    request<void>("PUT", `api/studies/${studyId}/${trialId}/note`, note),
  tell: (trialId: number, state: "Complete" | "Fail", values?: number[]) =>
    request<void>("POST", `api/trials/${trialId}/tell`, values ? { state, values } : { state }),
  setUserAttrs: (trialId: number, user_attrs: Record<string, string | number>) =>
    request<void>("POST", `api/trials/${trialId}/user-attrs`, { user_attrs }),
  uploadArtifact: (studyId: number, trialId: number | null, file: File) =>
    request<{ artifact_id: string; artifacts: Artifact[] }>(
      "POST",
      `api/artifacts/${studyId}${trialId === null ? "" : "/" + trialId}?filename=${encodeURIComponent(file.name)}`,
      undefined,
      file,
    ),
  deleteArtifact: (studyId: number, trialId: number | null, artifactId: string) =>
    request<void>("DELETE", `api/artifacts/${studyId}${trialId === null ? "" : "/" + trialId}/${artifactId}`),
};

/** URL of an artifact's bytes. */
export function artifactUrl(studyId: number, trialId: number | null, artifactId: string): string {
  return url(`artifacts/${studyId}${trialId === null ? "" : "/" + trialId}/${artifactId}`);
}

/** URL of the CSV export, optionally limited to some trial numbers. */
export function csvUrl(studyId: number, numbers?: number[]): string {
  return url(`csv/${studyId}${numbers && numbers.length ? "?trial_ids=" + numbers.join(",") : ""}`);
}
