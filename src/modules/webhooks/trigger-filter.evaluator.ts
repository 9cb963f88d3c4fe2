import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';

import { FilterFailedError, InvalidInputError } from '../../common/domain.error.js';
import { APP_CONFIG, type AppConfig } from '../../config/app.config.js';
import {
  ExpressionError,
  ExpressionEvaluator,
  validateExpression,
  type CompiledExpression,
} from '../../engine/index.js';
import { invalid } from './trigger-scheme.rules.js';

export const MAX_FILTER_LENGTH = 4096;
/** A sender waits on the filter (GitHub gives up after 10 s): EXPRESSION_TIMEOUT_MS can only lower this. */
export const MAX_FILTER_TIMEOUT_MS = 1000;
const MAX_REASON_LENGTH = 1000;

/** A stored filter as the cache holds it: compiled once, or the reason it does not compile. */
export type TriggerFilter = { compiled: CompiledExpression } | { broken: string };

export type FilterHeaders = Record<string, string | string[] | undefined>;

/** `400 validation_failed` naming `filter` for a filter that cannot be saved. */
export function checkFilter(source: string): void {
  if (source.trim() === '') throw invalid('filter', 'give a JSONata expression, or null for no filter');
  if (source.length > MAX_FILTER_LENGTH) {
    throw invalid('filter', `must be at most ${MAX_FILTER_LENGTH} characters`);
  }
  try {
    validateExpression(source);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    throw invalid('filter', `not a valid JSONata expression: ${error.message}`);
  }
}

/**
 * JSONata's own truthiness (`$boolean`), so that a filter means what it would in `$boolean(...)`: false,
 * null or no value, 0, "", an empty array or object, and an array none of whose items is truthy are not.
 */
export function isTruthy(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) return value.some(isTruthy);
  if (typeof value === 'string') return value.length > 0;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return false;
}

// The engine's evaluator (time limits, runaway expressions moved to threads), in this process's API role.
@Injectable()
export class TriggerFilterEvaluator implements OnModuleDestroy {
  private readonly evaluator: ExpressionEvaluator;
  private readonly timeoutMs: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.timeoutMs = Math.min(config.expressionTimeoutMs, MAX_FILTER_TIMEOUT_MS);
    this.evaluator = new ExpressionEvaluator({ timeoutMs: this.timeoutMs, threads: config.expressionThreads });
  }

  async onModuleDestroy(): Promise<void> {
    await this.evaluator.close();
  }

  compile(source: string): TriggerFilter {
    try {
      return { compiled: this.evaluator.compile(source) };
    } catch (error) {
      // Saved filters compile; one changed by hand fails every delivery until it is corrected.
      return { broken: `the filter does not compile: ${(error as Error).message}` };
    }
  }

  /** Whether the delivery passes; FilterFailedError when the filter cannot tell. */
  async passes(filter: TriggerFilter, inputJson: string, headers: FilterHeaders): Promise<boolean> {
    if ('broken' in filter) throw failed(filter.broken, false);
    let body: unknown;
    try {
      body = JSON.parse(inputJson);
    } catch {
      throw new InvalidInputError('invalid_json', 'Body is not valid JSON');
    }
    try {
      return isTruthy(await filter.compiled.evaluate({ body, headers }, this.timeoutMs));
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      throw failed(error.message, error.code === 'expression_timeout');
    }
  }
}

function failed(reason: string, timedOut: boolean): FilterFailedError {
  const what = timedOut ? 'did not finish in time' : 'failed to evaluate';
  return new FilterFailedError(
    `The trigger's filter ${what}; the delivery log says why. Retry once it is corrected`,
    reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH - 1)}…` : reason,
  );
}
