import { DEFAULT_RUN_TIMEOUT_MS, type StepBase } from '../definition.types.js';
import { DefinitionError } from '../definition.error.js';
import { integerIn } from '../definition-fields.util.js';
import type { StepHandler } from './step-handler.interface.js';

const MAX_DELAY_MS = 30 * 24 * 60 * 60_000;

// Waits without holding a worker: the engine returns `waiting` and is run again after the wait.
export interface DelayStep extends StepBase {
  type: 'delay';
  durationMs: number;
}

export const delayStep: StepHandler<DelayStep> = {
  type: 'delay',
  noun: 'a delay step',
  keys: ['durationMs'],
  sideEffects: true,
  parse(raw, id, label) {
    if (raw.durationMs === undefined || raw.durationMs === null) {
      throw new DefinitionError(`${label}: missing durationMs`);
    }
    return {
      id,
      type: 'delay',
      durationMs: integerIn(raw.durationMs, 1, MAX_DELAY_MS, `${label}: durationMs`, '(30 days)'),
    };
  },
  // A delay longer than the whole run could never end in a completed run.
  check(step, { runTimeoutMs }) {
    const limit = runTimeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
    if (step.durationMs < limit) return;
    const which =
      runTimeoutMs === undefined ? `the default run timeoutMs (${limit})` : `the run's timeoutMs (${limit})`;
    throw new DefinitionError(
      `step "${step.id}": durationMs ${step.durationMs} must be less than ${which}: raise the definition's timeoutMs`,
    );
  },
  run: { kind: 'wait', durationMs: (step) => step.durationMs },
};
