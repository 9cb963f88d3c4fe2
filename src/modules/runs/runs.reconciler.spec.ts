import { describe, expect, it } from '@jest/globals';

import type { AppConfig } from '../../config/app.config.js';
import type { RunClaimsRepository } from './run-claims.repository.js';
import { MetricsRegistry } from '../metrics/metrics.registry.js';
import { RunsReconciler } from './runs.reconciler.js';
import type { RunsProducer } from './runs.producer.js';

/** Runs as the database holds them, and job states as the queue answers, at the moment each is asked. */
function harness(due: string[], jobStates: Record<string, string>, finishedMeanwhile: string[] = []) {
  const finished = new Set<string>();
  const enqueued: string[] = [];
  const discarded: string[] = [];
  const runs = {
    takeUnfinishedForCheck: () => Promise.resolve(due.map((id) => ({ id, wakeAt: null }))),
    unfinishedAmong: (ids: string[]) => Promise.resolve(new Set(ids.filter((id) => !finished.has(id)))),
  } as unknown as RunClaimsRepository;
  const producer = {
    answers: () => Promise.resolve(true),
    stateOf: (id: string) => {
      // The run ends while the reconciler looks: its job is removed on completion.
      if (finishedMeanwhile.includes(id)) finished.add(id);
      return Promise.resolve(jobStates[id] ?? 'unknown');
    },
    discard: (id: string) => {
      discarded.push(id);
      return Promise.resolve();
    },
    enqueue: (id: string) => {
      enqueued.push(id);
      return Promise.resolve(true);
    },
  } as unknown as RunsProducer;
  const config = { reconcileIntervalMs: 0, metricsWorkflowLabels: false } as AppConfig;
  const metrics = new MetricsRegistry(config);
  const reconciler = new RunsReconciler(runs, producer, metrics, config);
  const requeuedMetric = async () =>
    (await metrics.registry.getSingleMetric('hookrun_reconciler_requeued_runs_total')!.get()).values[0]?.value;
  return { reconciler, enqueued, discarded, requeuedMetric };
}

describe('RunsReconciler', () => {
  it('enqueues an unfinished run whose job is gone, and one whose job failed (after removing it)', async () => {
    const { reconciler, enqueued, discarded, requeuedMetric } = harness(['a', 'b'], { a: 'unknown', b: 'failed' });
    expect(await reconciler.reconcileOnce()).toBe(2);
    expect(enqueued).toEqual(['a', 'b']);
    expect(discarded).toEqual(['b']);
    expect(await requeuedMetric()).toBe(2);
  });

  it('leaves runs whose job is waiting, active or delayed', async () => {
    const { reconciler, enqueued } = harness(['a', 'b', 'c'], { a: 'waiting', b: 'active', c: 'delayed' });
    expect(await reconciler.reconcileOnce()).toBe(0);
    expect(enqueued).toEqual([]);
  });

  it('does not enqueue a run that finished after the snapshot (its job went because it completed)', async () => {
    const { reconciler, enqueued, requeuedMetric } = harness(['a', 'b'], {}, ['a']);
    expect(await reconciler.reconcileOnce()).toBe(1);
    expect(enqueued).toEqual(['b']);
    // Only real repairs are counted.
    expect(await requeuedMetric()).toBe(1);
  });
});
