import type { Run } from '../api/types';
import { waterfall } from '../lib/waterfall';

/** One bar per step on the run's time axis; each row says its step, status and duration in words. */
export function StepWaterfall({ run, now }: { run: Run; now: number }) {
  const bars = waterfall(run, now);
  if (bars.length === 0) return null;
  return (
    <figure class="timeline">
      <figcaption class="visually-hidden">Timeline of the steps</figcaption>
      <ol class="waterfall" aria-label="Timeline">
        {bars.map((bar) => (
          <li key={bar.step.id}>
            <span>{bar.label}</span>
            <span class="track" aria-hidden="true">
              <span
                class="bar"
                data-status={bar.step.status}
                style={{ left: `${bar.left}%`, width: `${bar.width}%` }}
              />
            </span>
          </li>
        ))}
      </ol>
    </figure>
  );
}
