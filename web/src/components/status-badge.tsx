import type { RunStatus, StepStatus } from '../api/types';

/** The status as a word, coloured as a hint only: the word carries the meaning. */
export function StatusBadge({ status }: { status: RunStatus | StepStatus }) {
  return <span class={`badge badge-${status}`}>{status}</span>;
}
