import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';

import { TimeoutError, withTimeout } from './timeout.util.js';

describe('withTimeout', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('gives the value of work that finishes in time', async () => {
    const result = withTimeout(Promise.resolve(7), 1000, 'work');
    await expect(result).resolves.toBe(7);
  });

  it('passes on the error of work that fails in time', async () => {
    await expect(withTimeout(Promise.reject(new Error('boom')), 1000, 'work')).rejects.toThrow('boom');
  });

  it('rejects with a TimeoutError naming the work once the time is up, and ignores what the work does later', async () => {
    let finish: (value: number) => void = () => undefined;
    const result = withTimeout(new Promise<number>((resolve) => (finish = resolve)), 1000, 'the insert');
    jest.advanceTimersByTime(999);
    let settled = false;
    void result.catch(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    jest.advanceTimersByTime(1);
    await expect(result).rejects.toEqual(new TimeoutError('the insert', 1000));
    finish(1);
  });

  it('rejects at once when no time is left, without an unhandled rejection from the work', async () => {
    await expect(withTimeout(Promise.reject(new Error('late')), 0, 'work')).rejects.toBeInstanceOf(TimeoutError);
  });
});
