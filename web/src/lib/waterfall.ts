import type { Run, RunStep } from '../api/types';
import { formatDuration } from './format';
import { stepEnd } from './run-steps';

export interface WaterfallBar {
  step: RunStep;
  /** Percent of the run's span, from its start. */
  left: number;
  width: number;
  /** "greet, completed, 12 ms" or "wait, pending, not started": the bar's meaning in words. */
  label: string;
}

/** Each step as a bar on the run's time axis (from its start to its end, or to `now` while it runs). */
export function waterfall(run: Run, now: number = Date.now()): WaterfallBar[] {
  const starts = run.steps.filter((s) => s.startedAt).map((s) => Date.parse(s.startedAt as string));
  const origin = Date.parse(run.startedAt ?? run.createdAt);
  const from = Math.min(origin, ...starts);
  const ends = run.steps.map((s) => {
    const end = stepEnd(s, run);
    return end ? Date.parse(end) : s.startedAt ? now : from;
  });
  const to = Math.max(run.completedAt ? Date.parse(run.completedAt) : from, ...ends, from + 1);
  const span = to - from;
  return run.steps.map((step, index) => {
    if (!step.startedAt) return { step, left: 0, width: 0, label: `${step.id}, ${step.status}, not started` };
    const start = Date.parse(step.startedAt);
    const end = ends[index];
    const running = !stepEnd(step, run);
    const duration = formatDuration(end - start);
    return {
      step,
      left: ((start - from) / span) * 100,
      width: Math.max(0, ((end - start) / span) * 100),
      label: `${step.id}, ${step.status}, ${running ? `${duration} so far` : duration}`,
    };
  });
}
