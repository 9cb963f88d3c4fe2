import { RunFailedError } from '../../../common/domain.error.js';
import type { RunResponse } from '../../runs/dto/run.dto.js';

/**
 * An answer whose whole body is one JSON value, `null`, a string or a number included: Nest sends only objects
 * as JSON (others as text), and express's `res.json` serialises an object through its `toJSON`.
 */
export class JsonValueBody {
  constructor(private readonly value: unknown) {}

  toJSON(): unknown {
    return this.value;
  }
}

/** `reply=output`: a completed run's output is the answer; a run that failed or was cancelled answers 502. */
export function runOutputBody(run: RunResponse): JsonValueBody {
  if (run.status === 'completed') return new JsonValueBody(run.output);
  throw new RunFailedError({
    runId: run.id,
    status: run.status === 'cancelled' ? 'cancelled' : 'failed',
    error: run.error,
  });
}
