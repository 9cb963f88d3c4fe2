import { describe, expect, it } from '@jest/globals';

import { DefinitionError } from './definition.error.js';
import { validateDefinition } from './definition.validator.js';
import {
  debounceFireAt,
  debounceMaxWaitMs,
  decideConcurrency,
  decideThrottle,
  flowKeyValue,
  FlowKeyError,
  hasFlowControl,
} from './flow-control.js';

const steps = [{ id: 's', type: 'transform', expression: '1' }];

function refusal(extra: object): string {
  try {
    validateDefinition({ steps, ...extra });
  } catch (err) {
    expect(err).toBeInstanceOf(DefinitionError);
    return (err as DefinitionError).message;
  }
  throw new Error('expected the definition to be refused');
}

describe('flow-control fields of a definition', () => {
  it('keeps valid fields as written and leaves out null ones', () => {
    const flow = {
      concurrency: { limit: 1000, key: 'input.customer', onLimit: 'cancel-running' },
      throttle: { limit: 1, periodMs: 86_400_000, key: '$string(input.n)' },
      debounce: { periodMs: 100, maxWaitMs: 7 * 24 * 3_600_000 },
    };
    expect(validateDefinition({ steps, ...flow })).toEqual({ steps, ...flow });
    expect(validateDefinition({ steps, concurrency: null, throttle: null })).toEqual({ steps });
    expect(validateDefinition({ steps, concurrency: { limit: 1, key: null } })).toEqual({
      steps,
      concurrency: { limit: 1 },
    });
  });

  it.each([
    [{ concurrency: { limit: 0 } }, 'concurrency.limit must be an integer from 1 to 1000, got 0'],
    [{ concurrency: { limit: 1.5 } }, 'concurrency.limit must be an integer from 1 to 1000, got 1.5'],
    [{ concurrency: { limit: '2' } }, 'concurrency.limit must be an integer from 1 to 1000, got "2"'],
    [{ concurrency: {} }, 'concurrency.limit is required'],
    [{ concurrency: [] }, 'concurrency must be an object { limit, key?, onLimit? }'],
    [
      { concurrency: { limit: 1, onLimit: 'wait' } },
      'concurrency.onLimit must be one of "queue", "skip", "cancel-running", got "wait"',
    ],
    [{ concurrency: { limit: 1, key: 5 } }, 'concurrency.key must be a string (a JSONata expression over { input })'],
    [{ concurrency: { limit: 1, key: ' ' } }, 'concurrency.key must not be empty (leave it out for one group)'],
    [{ concurrency: { limit: 1, key: 'input.(' } }, 'concurrency.key: expression does not compile'],
    [{ concurrency: { limit: 1, key: 'a'.repeat(1025) } }, 'concurrency.key must be at most 1024 characters'],
    [{ concurrency: { limit: 1, max: 2 } }, 'concurrency: unknown property "max"'],
    [{ throttle: { limit: 1, periodMs: 99 } }, 'throttle.periodMs must be an integer from 100 to 86400000'],
    [{ throttle: { limit: 1, periodMs: 86_400_001 } }, 'throttle.periodMs must be an integer from 100 to 86400000'],
    [{ throttle: { periodMs: 1000 } }, 'throttle.limit is required'],
    [{ debounce: { periodMs: 500, maxWaitMs: 499 } }, 'debounce.maxWaitMs must be an integer from 500 to 604800000'],
    [{ debounce: { periodMs: 500, maxWaitMs: 604_800_001 } }, 'debounce.maxWaitMs must be an integer from 500'],
    [{ debounce: { key: 'input.id' } }, 'debounce.periodMs is required'],
  ])('refuses %j', (extra, message) => {
    expect(refusal(extra)).toContain(message);
  });

  it('knows whether a definition uses flow control', () => {
    expect(hasFlowControl(validateDefinition({ steps }))).toBe(false);
    expect(hasFlowControl(validateDefinition({ steps, debounce: { periodMs: 100 } }))).toBe(true);
  });
});

describe('flow keys', () => {
  it('are strings, or numbers and booleans as text', () => {
    expect(flowKeyValue('acme', 'concurrency.key')).toBe('acme');
    expect(flowKeyValue(42, 'concurrency.key')).toBe('42');
    expect(flowKeyValue(false, 'concurrency.key')).toBe('false');
    expect(flowKeyValue('', 'concurrency.key')).toBe('');
  });

  it.each([
    [undefined, 'got no value'],
    [null, 'got no value'],
    [{ a: 1 }, 'got object'],
    [[1], 'got an array'],
    [Number.NaN, 'got number'],
    ['x'.repeat(513), 'evaluated to 513 characters (at most 512)'],
  ])('refuses %j', (value, message) => {
    expect(() => flowKeyValue(value, 'throttle.key')).toThrow(FlowKeyError);
    expect(() => flowKeyValue(value, 'throttle.key')).toThrow(message);
  });
});

describe('decideConcurrency', () => {
  it('admits below the limit, counting earlier waiting runs as ahead', () => {
    expect(decideConcurrency({ limit: 2 }, { running: 1, olderQueued: 0 })).toEqual({ kind: 'admit' });
    expect(decideConcurrency({ limit: 2 }, { running: 1, olderQueued: 1 })).toEqual({ kind: 'queue' });
    expect(decideConcurrency({ limit: 1 }, { running: 0, olderQueued: 1 })).toEqual({ kind: 'queue' });
  });

  it('skips or cancels the oldest at the limit, as onLimit says', () => {
    expect(decideConcurrency({ limit: 1, onLimit: 'skip' }, { running: 1, olderQueued: 0 })).toEqual({ kind: 'skip' });
    expect(decideConcurrency({ limit: 2, onLimit: 'cancel-running' }, { running: 2, olderQueued: 0 })).toEqual({
      kind: 'cancel-running',
      cancel: 1,
    });
    // After a lowered limit, enough of the oldest go for the newcomer to fit.
    expect(decideConcurrency({ limit: 1, onLimit: 'cancel-running' }, { running: 3, olderQueued: 0 })).toEqual({
      kind: 'cancel-running',
      cancel: 3,
    });
  });
});

describe('decideThrottle', () => {
  const at = (ms: number) => new Date(1_000_000 + ms);
  const control = { limit: 2, periodMs: 1000 };

  it('admits while fewer than limit started in the last period', () => {
    expect(decideThrottle(control, { now: at(0), starts: [], olderQueued: 0 })).toEqual({ kind: 'admit' });
    expect(decideThrottle(control, { now: at(1000), starts: [at(0), at(500)], olderQueued: 0 })).toEqual({
      kind: 'admit',
    });
  });

  it('waits until the oldest start in the window leaves it', () => {
    expect(decideThrottle(control, { now: at(600), starts: [at(100), at(500)], olderQueued: 0 })).toEqual({
      kind: 'wait',
      until: at(1100),
    });
  });

  it('leaves the free places to earlier waiting runs', () => {
    expect(decideThrottle(control, { now: at(600), starts: [at(500)], olderQueued: 1 })).toEqual({
      kind: 'wait',
      until: at(1500),
    });
    expect(decideThrottle(control, { now: at(600), starts: [], olderQueued: 2 }, 100)).toEqual({
      kind: 'wait',
      until: at(700),
    });
  });
});

describe('debounce timing', () => {
  it('fires periodMs after the run arrived, never later than maxWaitMs after the chain began', () => {
    const control = { periodMs: 1000, maxWaitMs: 2500 };
    expect(debounceFireAt(control, new Date(5000), new Date(5000))).toEqual(new Date(6000));
    expect(debounceFireAt(control, new Date(7000), new Date(5000))).toEqual(new Date(7500));
  });

  it('waits at most 10 × periodMs by default', () => {
    expect(debounceMaxWaitMs({ periodMs: 200 })).toBe(2000);
    expect(debounceMaxWaitMs({ periodMs: 86_400_000 })).toBe(7 * 86_400_000);
  });
});
