import { afterAll, describe, expect, it } from '@jest/globals';

import { FilterFailedError, InvalidInputError, ValidationError } from '../../common/domain.error.js';
import type { AppConfig } from '../../config/app.config.js';
import { checkFilter, isTruthy, MAX_FILTER_LENGTH, TriggerFilterEvaluator } from './trigger-filter.evaluator.js';

describe('isTruthy', () => {
  it("follows JSONata's $boolean", () => {
    for (const value of [true, 1, -2.5, 'x', [0, 'a'], [true], { a: 1 }]) expect(isTruthy(value)).toBe(true);
    for (const value of [false, 0, '', null, undefined, [], [0, ''], [[]], {}]) expect(isTruthy(value)).toBe(false);
  });
});

describe('checkFilter', () => {
  const fieldOf = (source: string): unknown => {
    try {
      checkFilter(source);
      return undefined;
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      return (error as ValidationError).details.map((d) => d.field);
    }
  };

  it('takes JSONata that compiles', () => {
    expect(fieldOf('headers."x-github-event" = "push" and body.ref = "refs/heads/main"')).toBeUndefined();
  });

  it('refuses, naming filter, JSONata that does not compile, a blank filter and one too long', () => {
    expect(fieldOf('body.amount >')).toEqual(['filter']);
    expect(fieldOf('  ')).toEqual(['filter']);
    expect(fieldOf(`body.a = "${'x'.repeat(MAX_FILTER_LENGTH)}"`)).toEqual(['filter']);
  });
});

describe('TriggerFilterEvaluator', () => {
  const filters = new TriggerFilterEvaluator({ expressionTimeoutMs: 1000, expressionThreads: 1 } as AppConfig);
  afterAll(() => filters.onModuleDestroy());

  const passes = (source: string, body: unknown, headers: Record<string, string> = {}) =>
    filters.passes(filters.compile(source), JSON.stringify(body), headers);

  it('decides on the body and the headers', async () => {
    await expect(passes('body.amount > 100', { amount: 150 })).resolves.toBe(true);
    await expect(passes('body.amount > 100', { amount: 50 })).resolves.toBe(false);
    await expect(passes('body.missing', { amount: 50 })).resolves.toBe(false);
    await expect(passes('body.items', { items: [] })).resolves.toBe(false);
    await expect(passes('headers."x-github-event" = "push"', {}, { 'x-github-event': 'push' })).resolves.toBe(true);
    await expect(passes('headers."x-github-event" = "push"', {}, { 'x-github-event': 'issues' })).resolves.toBe(false);
  });

  it('fails with filter_failed and the reason apart from the message when the filter cannot tell', async () => {
    const error = await passes('body.name + 1', { name: 'Ada' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FilterFailedError);
    const failed = error as FilterFailedError;
    expect(failed.code).toBe('filter_failed');
    expect(failed.reason).toMatch(/must evaluate to a number/);
    // The sender reads the message: nothing of the filter or the data in it.
    expect(failed.message).not.toContain('Ada');
    expect(failed.message).not.toContain('body.name');
  });

  it('fails a filter past its time limit, saying so', async () => {
    const quick = new TriggerFilterEvaluator({ expressionTimeoutMs: 100, expressionThreads: 1 } as AppConfig);
    try {
      const error = await quick
        .passes(quick.compile('$count([1..5000000][$ > 0]) > 0'), '{}', {})
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FilterFailedError);
      expect((error as FilterFailedError).message).toMatch(/did not finish in time/);
      expect((error as FilterFailedError).reason).toMatch(/within 100 ms/);
    } finally {
      await quick.onModuleDestroy();
    }
  });

  it('fails every delivery of a stored filter that does not compile, and refuses a body that is not JSON', async () => {
    const broken = filters.compile('body.amount >');
    expect(broken).toEqual({ broken: expect.stringMatching(/does not compile/) });
    await expect(filters.passes(broken, '{}', {})).rejects.toBeInstanceOf(FilterFailedError);
    await expect(filters.passes(filters.compile('true'), '{"a":', {})).rejects.toBeInstanceOf(InvalidInputError);
  });
});
