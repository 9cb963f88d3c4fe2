import { describe, expect, it } from '@jest/globals';

import { ConflictError, NotFoundError } from '../../common/domain.error.js';
import type { AppConfig } from '../../config/app.config.js';
import { MetricsRegistry } from '../metrics/metrics.registry.js';
import type { WorkflowsService } from '../workflows/workflows.service.js';
import type { FlowControlService } from './flow-control.service.js';
import { RunCommandsService } from './run-commands.service.js';
import type { RunsProducer } from './runs.producer.js';
import type { RunsRepository } from './runs.repository.js';

/** Runs `run-a*` belong to the enabled workflow `wf-a`, `run-d*` to the disabled `wf-d`; others do not exist. */
function harness() {
  const inserted: { id: string; rerunOf: string }[] = [];
  const enqueued: string[] = [];
  const discarded: string[] = [];
  const workflowOf = (id: string) => (id.startsWith('run-a') ? 'wf-a' : id.startsWith('run-d') ? 'wf-d' : undefined);
  const runs = {
    findWorkflowsOf: (ids: string[]) =>
      Promise.resolve(new Map(ids.flatMap((id) => (workflowOf(id) ? [[id, workflowOf(id) as string]] : [])))),
    insertReruns: (reruns: { id: string; rerunOf: string }[]) => {
      inserted.push(...reruns);
      return Promise.resolve(new Set(reruns.map((r) => r.rerunOf)));
    },
    // Only the runs named `*-open` have not finished; only `*-failed` failed.
    cancelUnfinished: (ids: string[]) =>
      Promise.resolve(
        ids.filter((id) => id.endsWith('-open')).map((id) => ({ id, workflowId: 'wf-a', startedAt: null })),
      ),
    reopenFailed: (ids: string[]) => Promise.resolve(ids.filter((id) => id.endsWith('-failed'))),
  } as unknown as RunsRepository;
  const workflows = {
    findRunnable: (id: string) =>
      id === 'wf-d'
        ? Promise.reject(new ConflictError('workflow_disabled', 'Workflow is disabled: enable it to start runs'))
        : Promise.resolve({ id, version: 1 }),
  } as unknown as WorkflowsService;
  const producer = {
    enqueue: (id: string) => {
      enqueued.push(id);
      return Promise.resolve(true);
    },
    discard: (id: string) => {
      discarded.push(id);
      return Promise.resolve();
    },
  } as unknown as RunsProducer;
  const flow = { wakeAfterEnd: () => Promise.resolve() } as unknown as FlowControlService;
  const metrics = new MetricsRegistry({ metricsWorkflowLabels: false } as AppConfig);
  return {
    commands: new RunCommandsService(runs, producer, workflows, flow, metrics),
    inserted,
    enqueued,
    discarded,
  };
}

describe('RunCommandsService', () => {
  it('reruns the runs of runnable workflows; the others get the error the single rerun answers', async () => {
    const h = harness();
    const result = await h.commands.rerun(['run-a1', 'run-d1', 'run-x', 'run-a2']);
    expect(result.applied).toEqual(['run-a1', 'run-a2']);
    expect(h.inserted.map((r) => r.rerunOf)).toEqual(['run-a1', 'run-a2']);
    expect(result.refused.get('run-d1')).toMatchObject({ code: 'workflow_disabled' });
    expect(result.refused.get('run-x')).toEqual(new NotFoundError('run', 'run-x'));
    await h.commands.afterCommit('rerun', result);
    expect(h.enqueued).toEqual(h.inserted.map((r) => r.id));
  });

  it('refuses finished runs a cancel with run_finished and unknown ones with run_not_found', async () => {
    const h = harness();
    const result = await h.commands.cancel(['run-a1-open', 'run-a2', 'run-x']);
    expect(result.applied).toEqual(['run-a1-open']);
    expect(result.refused.get('run-a2')).toMatchObject({ code: 'run_finished', message: 'Run has already finished' });
    expect(result.refused.get('run-x')).toMatchObject({ code: 'run_not_found' });
    await h.commands.afterCommit('cancel', result);
    expect(h.discarded).toEqual(['run-a1-open']);
    expect(h.enqueued).toEqual([]);
  });

  it('retries failed runs only, and enqueues them after the commit', async () => {
    const h = harness();
    const result = await h.commands.retry(['run-a1-failed', 'run-a2']);
    expect(result.applied).toEqual(['run-a1-failed']);
    expect(result.refused.get('run-a2')).toMatchObject({ code: 'run_not_failed' });
    expect(h.enqueued).toEqual([]);
    await h.commands.afterCommit('retry', result);
    expect(h.enqueued).toEqual(['run-a1-failed']);
  });
});
