import { describe, expect, it } from '@jest/globals';

import { buildNotificationPayload, type EndedRun } from './notification.payload.js';

const run: EndedRun = {
  id: '0193a8f2-6c1d-7e55-8b2a-3c4d5e6f7a8b',
  workflowId: '0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a',
  workflowName: 'Score new deals',
  status: 'failed',
  error: { code: 'http_status', message: 'POST hooks.example.com answered with status 500', stepId: 'notify' },
  startedAt: new Date('2026-12-01T10:00:00.000Z'),
  completedAt: new Date('2026-12-01T10:00:02.500Z'),
};

describe('buildNotificationPayload', () => {
  it("says what ended, when, why and where to read it, with the run's end as the event's time", () => {
    expect(
      buildNotificationPayload('run.failed', run, new Date('2026-12-01T10:00:03Z'), 'https://hookrun.example.com'),
    ).toEqual({
      type: 'run.failed',
      timestamp: '2026-12-01T10:00:02.500Z',
      data: {
        runId: run.id,
        workflowId: run.workflowId,
        workflowName: 'Score new deals',
        status: 'failed',
        error: { code: 'http_status', message: 'POST hooks.example.com answered with status 500', stepId: 'notify' },
        startedAt: '2026-12-01T10:00:00.000Z',
        completedAt: '2026-12-01T10:00:02.500Z',
        links: {
          run: `https://hookrun.example.com/v1/workflow-runs/${run.id}`,
          workflow: `https://hookrun.example.com/v1/workflows/${run.workflowId}`,
        },
      },
    });
  });

  it('carries no input or output of the run, whatever the run object holds', () => {
    const withData = { ...run, input: { email: 'ada@example.com' }, output: { card: '4111' } } as EndedRun;
    const text = JSON.stringify(buildNotificationPayload('run.failed', withData, new Date(), 'http://x'));
    expect(text).not.toContain('ada@example.com');
    expect(text).not.toContain('4111');
  });

  it('takes the event time for a run cancelled before it started, and null error for a completed run', () => {
    const cancelled = { ...run, status: 'cancelled', error: null, startedAt: null, completedAt: null };
    const payload = buildNotificationPayload('run.cancelled', cancelled, new Date('2026-12-01T11:00:00Z'), 'http://x');
    expect(payload.timestamp).toBe('2026-12-01T11:00:00.000Z');
    expect(payload.data).toMatchObject({ status: 'cancelled', error: null, startedAt: null, completedAt: null });
  });
});
