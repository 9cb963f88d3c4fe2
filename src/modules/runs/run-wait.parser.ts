import { ValidationError } from '../../common/domain.error.js';

export const MAX_WAIT_SECONDS = 30;

export const WAIT_DESCRIPTION =
  `Wait up to this many seconds (1 to ${MAX_WAIT_SECONDS}) for the run to end: one that ends (completed, failed ` +
  'or cancelled) in time answers 200 with the run, as `GET /v1/workflow-runs/{id}` returns it; otherwise the ' +
  'usual 202. The wait ends the moment the run does, whichever process runs it.';

/** `run`: answer with the run (`{ data: run }`); `output`: with the run's output alone, or 502 `run_failed`. */
export type WaitReply = 'run' | 'output';

export interface WaitQuery {
  seconds: number;
  reply: WaitReply;
}

const WAIT_MESSAGE = `wait must be a whole number of seconds from 1 to ${MAX_WAIT_SECONDS}`;

/**
 * `?wait=` and `?reply=` as received (strings, arrays when repeated): null without either. `replies`: the route
 * takes `reply`. Anything else answers 400 `validation_failed` naming the parameter.
 */
export function parseWaitQuery(wait: unknown, reply: unknown, replies: boolean): WaitQuery | null {
  if (reply !== undefined) {
    if (!replies) throw invalid('reply', 'reply is taken by webhook URLs only');
    if (reply !== 'output') throw invalid('reply', 'reply must be output');
    if (wait === undefined) throw invalid('reply', 'reply is only valid with wait');
  }
  if (wait === undefined) return null;
  if (typeof wait !== 'string' || !/^\d{1,2}$/.test(wait) || Number(wait) < 1 || Number(wait) > MAX_WAIT_SECONDS) {
    throw invalid('wait', WAIT_MESSAGE);
  }
  return { seconds: Number(wait), reply: reply === 'output' ? 'output' : 'run' };
}

function invalid(field: string, message: string): ValidationError {
  return new ValidationError(`${field}: ${message}`, [{ field, message }]);
}
