import { describe, expect, it } from '@jest/globals';

import type { RunStep } from '../api/types';
import { stepEnd } from './run-steps';

const step = (finishedAt: string | null): RunStep => ({
  id: 'wait',
  type: 'delay',
  status: 'waiting',
  attempts: 1,
  startedAt: '2026-01-01T00:00:00Z',
  finishedAt,
  output: null,
  error: null,
});

describe('stepEnd', () => {
  it('is the step’s own end when it has one', () => {
    expect(stepEnd(step('2026-01-01T00:00:02Z'), { status: 'cancelled', completedAt: '2026-01-01T00:00:05Z' })).toBe(
      '2026-01-01T00:00:02Z',
    );
  });

  it('is still open while the run is active', () => {
    expect(stepEnd(step(null), { status: 'running', completedAt: null })).toBeNull();
    expect(stepEnd(step(null), { status: 'queued', completedAt: null })).toBeNull();
  });

  it('is the run’s end for a step the run left unfinished', () => {
    expect(stepEnd(step(null), { status: 'cancelled', completedAt: '2026-01-01T00:00:05Z' })).toBe(
      '2026-01-01T00:00:05Z',
    );
  });
});
