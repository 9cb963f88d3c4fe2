import { describe, expect, it } from '@jest/globals';

import type { Run, RunStep } from '../api/types';
import { waterfall } from './waterfall';

const step = (id: string, status: RunStep['status'], startedAt: string | null, finishedAt: string | null): RunStep => ({
  id,
  type: 'transform',
  status,
  attempts: 1,
  startedAt,
  finishedAt,
  output: null,
  error: null,
});
const at = (ms: number) => new Date(Date.UTC(2026, 11, 6, 6, 0, 0, ms)).toISOString();

describe('waterfall', () => {
  it('places each step on the run span, labelled with id, status and duration', () => {
    const run = {
      status: 'failed',
      createdAt: at(0),
      startedAt: at(0),
      completedAt: at(1000),
      steps: [
        step('a', 'completed', at(0), at(250)),
        step('b', 'failed', at(250), at(1000)),
        step('c', 'skipped', null, null),
      ],
    } as Run;
    const bars = waterfall(run);
    expect(bars.map((b) => [b.left, b.width, b.label])).toEqual([
      [0, 25, 'a, completed, 250 ms'],
      [25, 75, 'b, failed, 750 ms'],
      [0, 0, 'c, skipped, not started'],
    ]);
  });

  it('runs a running step up to now, and says so', () => {
    const run = {
      status: 'running',
      createdAt: at(0),
      startedAt: at(0),
      completedAt: null,
      steps: [step('a', 'completed', at(0), at(500)), step('wait', 'waiting', at(500), null)],
    } as Run;
    const bars = waterfall(run, Date.parse(at(2000)));
    expect(bars[0]).toMatchObject({ left: 0, width: 25 });
    expect(bars[1]).toMatchObject({ left: 25, width: 75, label: 'wait, waiting, 1.50 s so far' });
  });

  it('ends a step a cancelled run left unfinished with the run', () => {
    const run = {
      status: 'cancelled',
      createdAt: at(0),
      startedAt: at(0),
      completedAt: at(400),
      steps: [step('wait', 'waiting', at(0), null)],
    } as Run;
    expect(waterfall(run, Date.parse(at(9000)))[0]).toMatchObject({ width: 100, label: 'wait, waiting, 400 ms' });
  });
});
