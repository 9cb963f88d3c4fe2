import { describe, expect, it } from '@jest/globals';

import type { AppConfig } from '../../config/app.config.js';
import { errorCodeLabel, LabelCache, MetricsRegistry } from './metrics.registry.js';

function registry(metricsWorkflowLabels: boolean): MetricsRegistry {
  return new MetricsRegistry({ metricsWorkflowLabels } as AppConfig);
}

async function valueOf(metrics: MetricsRegistry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)!.get();
  const found = metric.values.find(
    (value) =>
      Object.keys(labels).length === Object.keys(value.labels).length &&
      Object.entries(labels).every(([key, label]) => value.labels[key] === label),
  );
  return found?.value ?? Number.NaN;
}

describe('errorCodeLabel', () => {
  it('keeps the codes of the registry and folds anything else into "other"', () => {
    expect(errorCodeLabel('invalid_signature')).toBe('invalid_signature');
    expect(errorCodeLabel('rate_limited')).toBe('rate_limited');
    expect(errorCodeLabel('http_418')).toBe('other');
    expect(errorCodeLabel('toString')).toBe('other');
    expect(errorCodeLabel(undefined)).toBe('none');
    expect(errorCodeLabel(null)).toBe('none');
  });
});

describe('LabelCache', () => {
  it('makes a child once per label set', () => {
    let made = 0;
    const cache = new LabelCache((a, b) => ({ a, b, n: ++made }));
    expect(cache.get('x', 'y')).toBe(cache.get('x', 'y'));
    expect(cache.get('x', 'y')).not.toBe(cache.get('xy', ''));
    expect(made).toBe(2);
  });
});

describe('MetricsRegistry', () => {
  it('counts deliveries by scheme, outcome and code, and observes their latency by outcome', async () => {
    const metrics = registry(false);
    metrics.delivery('github', 'accepted', null, 0.002);
    metrics.delivery('github', 'accepted', null, 0.004);
    metrics.delivery('github', 'rejected', 'invalid_signature', 0.001);
    const name = 'hookrun_webhook_deliveries_total';
    expect(await valueOf(metrics, name, { scheme: 'github', outcome: 'accepted', error_code: 'none' })).toBe(2);
    expect(
      await valueOf(metrics, name, { scheme: 'github', outcome: 'rejected', error_code: 'invalid_signature' }),
    ).toBe(1);
    const text = await metrics.registry.metrics();
    expect(text).toContain('hookrun_webhook_ingest_duration_seconds_count{outcome="accepted"} 2');
    expect(text).toContain('hookrun_webhook_ingest_duration_seconds_bucket{le="0.0025",outcome="accepted"} 1');
  });

  it('labels runs with their workflow only when asked to', async () => {
    const plain = registry(false);
    plain.runStarted('wf-1');
    plain.runStarted('wf-2');
    plain.runEnded('wf-1', 'completed', new Date(1000), new Date(3500));
    plain.runEnded('wf-2', 'cancelled', null, new Date(3500));
    expect(await valueOf(plain, 'hookrun_runs_started_total', {})).toBe(2);
    expect(await valueOf(plain, 'hookrun_runs_ended_total', { status: 'completed' })).toBe(1);
    expect(await valueOf(plain, 'hookrun_runs_ended_total', { status: 'cancelled' })).toBe(1);
    const text = await plain.registry.metrics();
    expect(text).toContain('hookrun_run_duration_seconds_sum{status="completed"} 2.5');
    // Cancelled before it started: counted as ended, not observed as a duration.
    expect(text).not.toContain('hookrun_run_duration_seconds_count{status="cancelled"}');
    expect(text).not.toContain('workflow_id');

    const labelled = registry(true);
    labelled.runStarted('wf-1');
    labelled.runEnded('wf-1', 'failed', new Date(0), new Date(10));
    expect(await valueOf(labelled, 'hookrun_runs_started_total', { workflow_id: 'wf-1' })).toBe(1);
    expect(await valueOf(labelled, 'hookrun_runs_ended_total', { status: 'failed', workflow_id: 'wf-1' })).toBe(1);
  });

  it('observes step durations by type and status, and counts re-enqueued runs', async () => {
    const metrics = registry(false);
    metrics.stepFinished('http', 'completed', new Date(0), new Date(250));
    metrics.stepFinished('http', 'failed', new Date(0), new Date(50));
    metrics.runsRequeued(3);
    const text = await metrics.registry.metrics();
    expect(text).toContain('hookrun_step_duration_seconds_sum{type="http",status="completed"} 0.25');
    expect(text).toContain('hookrun_step_duration_seconds_count{type="http",status="failed"} 1');
    expect(text).toContain('hookrun_reconciler_requeued_runs_total 3');
    // collectDefaultMetrics: event-loop lag and process metrics come with every registry.
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toContain('process_cpu_seconds_total');
  });
});
