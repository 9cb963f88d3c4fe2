import { afterAll, afterEach, describe, expect, it, jest } from '@jest/globals';

import type { AppConfig } from '../../config/app.config.js';
import type { ChangeFeed } from '../../common/change.feed.js';
import type { WorkflowDefinition } from '../../engine/index.js';
import { conditionStep } from '../../engine/steps/condition.step.js';
import { transformStep } from '../../engine/steps/transform.step.js';
import type { WorkflowsService } from '../workflows/workflows.service.js';
import type { FlowControlService } from './flow-control.service.js';
import type { RunClaimsRepository, StepRow } from './run-claims.repository.js';
import { MetricsRegistry } from '../metrics/metrics.registry.js';
import type { StepSecretsService } from '../secrets/step-secrets.service.js';
import { RunExecutor } from './run.executor.js';
import type { WorkflowRun } from './workflow-run.entity.js';

/** What was written, in order: each checkpoint write with its rows, then the run's end. */
type Write = { kind: 'steps'; rows: Pick<StepRow, 'stepId' | 'status'>[] } | { kind: 'finish' };

function harness(definition: WorkflowDefinition) {
  const writes: Write[] = [];
  const run = {
    id: 'run-1',
    workflowId: 'wf-1',
    workflowVersion: 1,
    attempt: 1,
    input: { n: 1 },
    steps: [],
    startedAt: null,
    wakeAt: null,
    triggerType: 'api',
    webhookId: null,
    idempotencyKey: null,
  } as unknown as WorkflowRun;
  const runs = {
    claim: () => Promise.resolve(run),
    writeSteps: (_id: string, _attempt: number, rows: StepRow[]) => {
      writes.push({ kind: 'steps', rows: rows.map(({ stepId, status }) => ({ stepId, status })) });
      return Promise.resolve(true);
    },
    finish: () => {
      writes.push({ kind: 'finish' });
      return Promise.resolve(true);
    },
    setWakeAt: () => Promise.resolve(),
    statusOf: () => Promise.resolve('running'),
  } as unknown as RunClaimsRepository;
  const workflows = { definitionOf: () => Promise.resolve(definition) } as unknown as WorkflowsService;
  const config = {
    expressionTimeoutMs: 1000,
    expressionThreads: 1,
    httpStepAllowedHosts: [],
    httpStepProtectedPorts: [],
    metricsWorkflowLabels: false,
  } as unknown as AppConfig;
  const changes = { onRunCancelled: () => () => undefined } as unknown as ChangeFeed;
  const flow = { wakeAfterEnd: () => Promise.resolve() } as unknown as FlowControlService;
  const metrics = new MetricsRegistry(config);
  const secrets = { resolve: () => Promise.resolve(new Map()) } as unknown as StepSecretsService;
  return { executor: new RunExecutor(runs, workflows, flow, metrics, config, changes, secrets), writes };
}

/** Checkpoint writes made while the run went on, before its end. */
function writesBeforeEnd(writes: Write[]): Write[] {
  return writes.slice(
    0,
    writes.findIndex((write) => write.kind === 'finish'),
  );
}

describe('RunExecutor: when checkpoints are written', () => {
  const executors: RunExecutor[] = [];
  const start = (definition: WorkflowDefinition) => {
    const made = harness(definition);
    executors.push(made.executor);
    return made;
  };
  afterEach(() => {
    jest.restoreAllMocks();
  });
  afterAll(async () => {
    await Promise.all(executors.map((executor) => executor.onModuleDestroy()));
  });

  const transforms: WorkflowDefinition = {
    steps: [
      { id: 'a', type: 'transform', expression: 'input.n + 1' },
      { id: 'b', type: 'transform', expression: 'steps.a.output + 1' },
    ],
  };

  it('writes the steps without side effects with the run’s end', async () => {
    const { executor, writes } = start(transforms);
    await expect(executor.execute('run-1')).resolves.toEqual({ kind: 'done' });
    expect(writes).toEqual([{ kind: 'finish' }]);
  });

  // The decision must come from the registry: a type flagged there is checkpointed at once, whatever its name.
  it('writes at once the checkpoint of a type the registry flags as having side effects', async () => {
    jest.replaceProperty(transformStep, 'sideEffects', true);
    const { executor, writes } = start(transforms);
    await expect(executor.execute('run-1')).resolves.toEqual({ kind: 'done' });
    expect(writesBeforeEnd(writes)).toEqual([
      {
        kind: 'steps',
        rows: [
          { stepId: 'a', status: 'running' },
          { stepId: 'b', status: 'pending' },
        ],
      },
      { kind: 'steps', rows: [{ stepId: 'a', status: 'completed' }] },
      { kind: 'steps', rows: [{ stepId: 'b', status: 'running' }] },
      { kind: 'steps', rows: [{ stepId: 'b', status: 'completed' }] },
    ]);
  });

  it('asks the registry about every type it runs, condition steps included', async () => {
    jest.replaceProperty(conditionStep, 'sideEffects', true);
    const { executor, writes } = start({
      steps: [
        { id: 'a', type: 'transform', expression: '1' },
        { id: 'check', type: 'condition', expression: 'steps.a.output = 1', then: null, else: null },
      ],
    });
    await expect(executor.execute('run-1')).resolves.toEqual({ kind: 'done' });
    expect(writesBeforeEnd(writes)).toEqual([
      {
        kind: 'steps',
        rows: [
          { stepId: 'a', status: 'completed' },
          { stepId: 'check', status: 'running' },
        ],
      },
      { kind: 'steps', rows: [{ stepId: 'check', status: 'completed' }] },
    ]);
  });
});
