import { DefinitionError } from './definition.error.js';
import {
  compiles,
  integerIn,
  isObject,
  optional,
  rejectUnknownKeys,
  type JsonObject,
} from './definition-fields.util.js';

/** What a run does when its concurrency key already has `limit` runs running. */
export const CONCURRENCY_ON_LIMIT = ['queue', 'skip', 'cancel-running'] as const;
export type ConcurrencyOnLimit = (typeof CONCURRENCY_ON_LIMIT)[number];

export interface ConcurrencyControl {
  limit: number;
  /** JSONata over `{ input }`; absent: one group for the whole workflow. */
  key?: string;
  onLimit?: ConcurrencyOnLimit;
}

export interface ThrottleControl {
  limit: number;
  periodMs: number;
  key?: string;
}

export interface DebounceControl {
  periodMs: number;
  key?: string;
  /** Counted from the first run of the chain; default 10 × periodMs (capped at MAX_DEBOUNCE_WAIT_MS). */
  maxWaitMs?: number;
}

export interface FlowControl {
  concurrency?: ConcurrencyControl;
  throttle?: ThrottleControl;
  debounce?: DebounceControl;
}

export const FLOW_CONTROL_FIELDS = ['concurrency', 'throttle', 'debounce'] as const;
export const FLOW_LIMIT_RANGE = { min: 1, max: 1000 } as const;
export const FLOW_PERIOD_RANGE = { min: 100, max: 86_400_000 } as const;
export const MAX_DEBOUNCE_WAIT_MS = 7 * 24 * 60 * 60_000;
export const MAX_FLOW_KEY_EXPRESSION_LENGTH = 1024;
/** A key value longer than this fails the run (`flow_key_failed`): keys are indexed and compared, not stored blobs. */
export const MAX_FLOW_KEY_LENGTH = 512;

/** The group of runs a definition without `key` puts all its runs in. */
export const DEFAULT_FLOW_KEY = '';

export function hasFlowControl(definition: FlowControl): boolean {
  return definition.concurrency !== undefined || definition.throttle !== undefined || definition.debounce !== undefined;
}

export function debounceMaxWaitMs(debounce: DebounceControl): number {
  return debounce.maxWaitMs ?? Math.min(10 * debounce.periodMs, MAX_DEBOUNCE_WAIT_MS);
}

/** Validates the flow-control fields of a raw definition, returning clean copies of those that are set. */
export function validateFlowControl(raw: JsonObject): FlowControl {
  const flow: FlowControl = {};
  const concurrency = optional(raw.concurrency);
  if (concurrency !== undefined) flow.concurrency = validateConcurrency(concurrency);
  const throttle = optional(raw.throttle);
  if (throttle !== undefined) flow.throttle = validateThrottle(throttle);
  const debounce = optional(raw.debounce);
  if (debounce !== undefined) flow.debounce = validateDebounce(debounce);
  return flow;
}

function validateConcurrency(raw: unknown): ConcurrencyControl {
  if (!isObject(raw)) throw new DefinitionError('concurrency must be an object { limit, key?, onLimit? }');
  rejectUnknownKeys(raw, ['limit', 'key', 'onLimit'], 'concurrency');
  const control: ConcurrencyControl = { limit: limit(raw.limit, 'concurrency.limit') };
  const key = flowKey(raw.key, 'concurrency.key');
  if (key !== undefined) control.key = key;
  const onLimit = optional(raw.onLimit);
  if (onLimit !== undefined) {
    if (!CONCURRENCY_ON_LIMIT.includes(onLimit as ConcurrencyOnLimit)) {
      throw new DefinitionError(
        `concurrency.onLimit must be one of ${CONCURRENCY_ON_LIMIT.map((v) => `"${v}"`).join(', ')}, got ${JSON.stringify(onLimit)}`,
      );
    }
    control.onLimit = onLimit as ConcurrencyOnLimit;
  }
  return control;
}

function validateThrottle(raw: unknown): ThrottleControl {
  if (!isObject(raw)) throw new DefinitionError('throttle must be an object { limit, periodMs, key? }');
  rejectUnknownKeys(raw, ['limit', 'periodMs', 'key'], 'throttle');
  const control: ThrottleControl = {
    limit: limit(raw.limit, 'throttle.limit'),
    periodMs: period(raw.periodMs, 'throttle.periodMs'),
  };
  const key = flowKey(raw.key, 'throttle.key');
  if (key !== undefined) control.key = key;
  return control;
}

function validateDebounce(raw: unknown): DebounceControl {
  if (!isObject(raw)) throw new DefinitionError('debounce must be an object { periodMs, key?, maxWaitMs? }');
  rejectUnknownKeys(raw, ['periodMs', 'key', 'maxWaitMs'], 'debounce');
  const control: DebounceControl = { periodMs: period(raw.periodMs, 'debounce.periodMs') };
  const key = flowKey(raw.key, 'debounce.key');
  if (key !== undefined) control.key = key;
  const maxWaitMs = optional(raw.maxWaitMs);
  if (maxWaitMs !== undefined) {
    control.maxWaitMs = integerIn(
      maxWaitMs,
      control.periodMs,
      MAX_DEBOUNCE_WAIT_MS,
      'debounce.maxWaitMs',
      '(at least debounce.periodMs, at most 7 days)',
    );
  }
  return control;
}

function limit(value: unknown, what: string): number {
  if (optional(value) === undefined) throw new DefinitionError(`${what} is required`);
  return integerIn(value, FLOW_LIMIT_RANGE.min, FLOW_LIMIT_RANGE.max, what);
}

function period(value: unknown, what: string): number {
  if (optional(value) === undefined) throw new DefinitionError(`${what} is required`);
  return integerIn(value, FLOW_PERIOD_RANGE.min, FLOW_PERIOD_RANGE.max, what, '(milliseconds, up to 1 day)');
}

function flowKey(value: unknown, what: string): string | undefined {
  const key = optional(value);
  if (key === undefined) return undefined;
  if (typeof key !== 'string')
    throw new DefinitionError(`${what} must be a string (a JSONata expression over { input })`);
  if (key.trim() === '') throw new DefinitionError(`${what} must not be empty (leave it out for one group)`);
  if (key.length > MAX_FLOW_KEY_EXPRESSION_LENGTH) {
    throw new DefinitionError(`${what} must be at most ${MAX_FLOW_KEY_EXPRESSION_LENGTH} characters`);
  }
  compiles(key, `${what}: expression`);
  return key;
}

/** Why a key could not be computed: the run fails with `flow_key_failed` and this message. */
export class FlowKeyError extends Error {
  readonly code = 'flow_key_failed';
}

/**
 * A key's value as stored: strings as they are, numbers and booleans as JSON text. Anything else (no value,
 * null, an object or array) is refused rather than folded into one group, which would silently serialize
 * unrelated runs.
 */
export function flowKeyValue(value: unknown, what: string): string {
  let key: string;
  if (typeof value === 'string') key = value;
  else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') key = String(value);
  else {
    const got = value === undefined || value === null ? 'no value' : Array.isArray(value) ? 'an array' : typeof value;
    throw new FlowKeyError(`${what} must evaluate to a string, number or boolean, got ${got}`);
  }
  if (key.length > MAX_FLOW_KEY_LENGTH) {
    throw new FlowKeyError(`${what} evaluated to ${key.length} characters (at most ${MAX_FLOW_KEY_LENGTH})`);
  }
  return key;
}

export type ConcurrencyDecision =
  | { kind: 'admit' }
  | { kind: 'queue' }
  | { kind: 'skip' }
  /** Cancel this many of the oldest running runs, then admit. */
  | { kind: 'cancel-running'; cancel: number };

/** `olderQueued`: runs of the key that arrived earlier and still wait; they go first (arrival order). */
export function decideConcurrency(
  control: ConcurrencyControl,
  state: { running: number; olderQueued: number },
): ConcurrencyDecision {
  if (state.running + state.olderQueued < control.limit) return { kind: 'admit' };
  switch (control.onLimit ?? 'queue') {
    case 'queue':
      return { kind: 'queue' };
    case 'skip':
      return { kind: 'skip' };
    case 'cancel-running':
      return { kind: 'cancel-running', cancel: state.running - control.limit + 1 };
  }
}

export type ThrottleDecision = { kind: 'admit' } | { kind: 'wait'; until: Date };

/**
 * `starts`: start times of the key's runs in the last `periodMs`, oldest first. `olderQueued`: earlier runs of
 * the key still waiting, which take the free places first. `retryMs` bounds how long a run that waits only
 * for earlier ones sleeps before it looks again.
 */
export function decideThrottle(
  control: ThrottleControl,
  state: { now: Date; starts: Date[]; olderQueued: number },
  retryMs = 100,
): ThrottleDecision {
  const now = state.now.getTime();
  const inWindow = state.starts.map((s) => s.getTime()).filter((t) => t > now - control.periodMs);
  if (inWindow.length + state.olderQueued < control.limit) return { kind: 'admit' };
  // The place this run gets: after the earlier waiting runs, once enough starts have left the window.
  const needed = inWindow.length + state.olderQueued - control.limit;
  const frees = needed < inWindow.length ? inWindow[needed] + control.periodMs : now + retryMs;
  return { kind: 'wait', until: new Date(Math.max(frees, now + 1)) };
}

/** When a debounced run fires: `periodMs` after it arrived, but no later than `maxWaitMs` after its chain began. */
export function debounceFireAt(control: DebounceControl, createdAt: Date, chainStartedAt: Date): Date {
  return new Date(
    Math.min(createdAt.getTime() + control.periodMs, chainStartedAt.getTime() + debounceMaxWaitMs(control)),
  );
}
