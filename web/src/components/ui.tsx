// Small shared UI pieces: state chips, in-app links, modal dialogs, confirmation.
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { href } from "../lib/router";
import type { TrialState } from "../lib/types";

export function StateChip({ state }: { state: TrialState }) {
  return <span class={`chip state-${state.toLowerCase()}`}>{state}</span>;
}

export function BestChip() {
  return <span class="chip best" title="Best trial (on the Pareto front for several objectives)">★ Best</span>;
}

export function Link(props: { to: string; class?: string; children: ComponentChildren; title?: string; "aria-current"?: string }) {
  const { to, children, ...rest } = props;
  return (
    <a data-nav href={href(to)} {...(rest as any)}>
      {children}
    </a>
  );
}

/** A modal dialog (native <dialog>): Escape closes, focus moves into it and back. */
export function Modal(props: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean; actions?: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current!;
    const prev = document.activeElement as HTMLElement | null;
    if (!d.open) d.showModal();
    const first = d.querySelector<HTMLElement>("[autofocus], input, textarea, select, button.primary, button");
    first?.focus();
    return () => {
      if (d.open) d.close();
      prev?.focus?.();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class={props.wide ? "modal wide" : "modal"}
      aria-label={props.title}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
      onKeyDown={(e) => e.stopPropagation()}
    >
      <header>
        <h2>{props.title}</h2>
        <button class="icon" aria-label="Close" onClick={props.onClose}>
          ✕
        </button>
      </header>
      <div class="modal-body">{props.children}</div>
      {props.actions && <footer>{props.actions}</footer>}
    </dialog>
  );
}

export function Confirm(props: { title: string; message: ComponentChildren; confirm: string; danger?: boolean; onConfirm: () => void; onCancel: () => void }) {
  return (
    <Modal
      title={props.title}
      onClose={props.onCancel}
      actions={
        <>
          <button onClick={props.onCancel}>Cancel</button>
          <button class={props.danger ? "danger primary" : "primary"} autofocus onClick={props.onConfirm}>
            {props.confirm}
          </button>
        </>
      }
    >
      {props.message}
    </Modal>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

export function Spinner({ label = "Loading…" }: { label?: string }) {
  return (
    <div class="spinner" role="status">
      <span class="dot" aria-hidden="true" />
      {label}
    </div>
  );
}

/** Shown while a study loads: how many trials and how much has arrived. */
export function StudyLoading({ s }: { s: { received: number; tailCounts: { running: number; complete: number; pruned: number; fail: number; waiting: number } | null } }) {
  const c = s.tailCounts;
  const n = c ? c.running + c.complete + c.pruned + c.fail + c.waiting : null;
  const mb = s.received / 1048576;
  return <Spinner label={`Loading ${n ? n.toLocaleString() + " trials" : "study"}…${mb >= 1 ? ` ${mb.toFixed(0)} MB received` : ""}`} />;
}

/** Says that a large study is still arriving and the page shows its newest trials. */
export function PartialBanner({ s }: { s: { trials: unknown[]; received: number; tailCounts: { running: number; complete: number; pruned: number; fail: number; waiting: number } | null } }) {
  const c = s.tailCounts;
  const n = c ? c.running + c.complete + c.pruned + c.fail + c.waiting : 0;
  return (
    <span class="partial" role="status">
      Showing the newest {s.trials.length.toLocaleString()} of {n.toLocaleString()} trials; the rest is loading ({(s.received / 1048576).toFixed(0)} MB)…
    </span>
  );
}
