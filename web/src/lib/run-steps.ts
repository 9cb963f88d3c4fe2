import type { Run, RunStep } from '../api/types';

/** A step left unfinished by a run that ended (cancelled) stopped when the run did, not now. */
export function stepEnd(step: RunStep, run: Pick<Run, 'status' | 'completedAt'>): string | null {
  if (step.finishedAt) return step.finishedAt;
  return run.status === 'queued' || run.status === 'running' ? null : run.completedAt;
}
