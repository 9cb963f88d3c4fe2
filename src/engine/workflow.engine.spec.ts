import { afterAll, describe, expect, it } from '@jest/globals';

import type { StepDefinition, WorkflowDefinition } from './definition.types.js';
import { ExpressionEvaluator } from './expression.evaluator.js';
import {
  WorkflowEngine,
  type Checkpoint,
  type EngineHooks,
  type RunInfo,
  type StepResult,
  type WaitingStepResult,
} from './workflow.engine.js';
import { validateDefinition } from './definition.validator.js';

const RUN: RunInfo = { id: 'run-1', workflowId: 'wf-1', trigger: { type: 'api' } };
const START = Date.UTC(2030, 0, 1);
const RUNAWAY = '( $f := function($n){ $n > 0 ? $f($n-1) + $f($n-1) : 0 }; $f(40) )';
/** Expressions of these tests take microseconds: a limit this wide is never hit, however busy the machine. */
const evaluator = new ExpressionEvaluator({ timeoutMs: 30_000 });
afterAll(() => evaluator.close());

/** An engine on a fake clock, with hooks that record what they are told. */
function setup(options: { evaluator?: ExpressionEvaluator; stopAfter?: string; stepMs?: number } = {}) {
  let clock = START;
  const sleeps: number[] = [];
  const events: string[] = [];
  const results: StepResult[] = [];
  const waiting: WaitingStepResult[] = [];
  const engine = new WorkflowEngine(options.evaluator ?? evaluator, {
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
  });
  const hooks: EngineHooks = {
    onStepStarted: async (step, startedAt, attempt) => {
      events.push(`started ${step.id} #${attempt} at ${startedAt.getTime() - START}`);
      clock += options.stepMs ?? 0;
    },
    onStepFinished: async (result) => {
      results.push(result);
      events.push(`${result.status} ${result.stepId}`);
    },
    onStepWaiting: async (result) => {
      waiting.push(result);
      events.push(`waiting ${result.stepId} until ${result.until.getTime() - START}`);
    },
    shouldStop: async () => options.stopAfter !== undefined && results.some((r) => r.stepId === options.stopAfter),
  };
  return {
    engine,
    hooks,
    events,
    results,
    waiting,
    sleeps,
    now: () => clock,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

function definition(raw: unknown): WorkflowDefinition {
  return validateDefinition(raw);
}

const dealFlow = definition({
  steps: [
    { id: 'score', type: 'transform', expression: '$count(input.deals)' },
    { id: 'gate', type: 'condition', expression: 'steps.score.output > 2', then: 'notify', else: 'done' },
    { id: 'notify', type: 'transform', expression: "'notify ' & input.companyId" },
    { id: 'done', type: 'transform', expression: "{ 'ok': true, 'score': steps.score.output }" },
  ],
  output: 'steps.done.output',
});

const manyDeals = { companyId: 'c1', deals: [1, 2, 3] };
const fewDeals = { companyId: 'c1', deals: [1] };

describe('WorkflowEngine.run', () => {
  it('runs the steps in order and completes with the output expression', async () => {
    const { engine, hooks, events, results } = setup({ stepMs: 5 });

    const outcome = await engine.run(dealFlow, { input: manyDeals, run: RUN }, hooks);

    expect(outcome).toEqual({ status: 'completed', output: { ok: true, score: 3 } });
    expect(events).toEqual([
      'started score #1 at 0',
      'completed score',
      'started gate #1 at 5',
      'completed gate',
      'started notify #1 at 10',
      'completed notify',
      'started done #1 at 15',
      'completed done',
    ]);
    expect(results[0]).toEqual({
      stepId: 'score',
      type: 'transform',
      status: 'completed',
      output: 3,
      attempts: 1,
      startedAt: new Date(START),
      finishedAt: new Date(START + 5),
    });
    expect(results[1]).toMatchObject({ stepId: 'gate', output: { result: true, next: 'notify' }, next: 'notify' });
    expect(results[2]).toMatchObject({ stepId: 'notify', output: 'notify c1' });
  });

  it('without an output expression, completes with the output of the last completed step', async () => {
    const { engine } = setup();
    const flow = definition({ steps: dealFlow.steps });

    await expect(engine.run(flow, { input: manyDeals, run: RUN })).resolves.toEqual({
      status: 'completed',
      output: { ok: true, score: 3 },
    });
  });

  it('gives expressions the run: id, workflow id and trigger', async () => {
    const { engine } = setup();
    const flow = definition({
      steps: [{ id: 'who', type: 'transform', expression: "run.id & ' ' & run.workflowId & ' ' & run.trigger.type" }],
    });

    await expect(engine.run(flow, { input: {}, run: RUN })).resolves.toEqual({
      status: 'completed',
      output: 'run-1 wf-1 api',
    });
  });

  describe('condition', () => {
    it('goes on at else when false, reporting the steps jumped over as skipped', async () => {
      const { engine, hooks, events, results } = setup();

      const outcome = await engine.run(dealFlow, { input: fewDeals, run: RUN }, hooks);

      expect(outcome).toEqual({ status: 'completed', output: { ok: true, score: 1 } });
      expect(events).toEqual([
        'started score #1 at 0',
        'completed score',
        'started gate #1 at 0',
        'completed gate',
        'skipped notify',
        'started done #1 at 0',
        'completed done',
      ]);
      expect(results[1]).toMatchObject({ status: 'completed', output: { result: false, next: 'done' }, next: 'done' });
      expect(results[2]).toEqual({ stepId: 'notify', type: 'transform', status: 'skipped' });
    });

    it('jumps over several steps, which the expressions then do not see', async () => {
      const { engine, hooks, events } = setup();
      const flow = definition({
        steps: [
          { id: 'gate', type: 'condition', expression: 'true', then: 'last', else: null },
          { id: 'a', type: 'transform', expression: '1' },
          { id: 'b', type: 'transform', expression: '2' },
          { id: 'last', type: 'transform', expression: "$exists(steps.a) or $exists(steps.b) ? 'seen' : 'unseen'" },
        ],
      });

      const outcome = await engine.run(flow, { input: {}, run: RUN }, hooks);

      expect(outcome).toEqual({ status: 'completed', output: 'unseen' });
      expect(events.filter((event) => !event.startsWith('started'))).toEqual([
        'completed gate',
        'skipped a',
        'skipped b',
        'completed last',
      ]);
    });

    it('ends the run at a null target, skipping all remaining steps', async () => {
      const { engine, hooks, events } = setup();
      const flow = definition({
        steps: [
          { id: 'score', type: 'transform', expression: '$count(input.deals)' },
          { id: 'gate', type: 'condition', expression: 'steps.score.output > 2', then: 'notify', else: null },
          { id: 'notify', type: 'transform', expression: "'notify'" },
          { id: 'done', type: 'transform', expression: "'done'" },
        ],
      });

      const outcome = await engine.run(flow, { input: fewDeals, run: RUN }, hooks);

      expect(outcome).toEqual({ status: 'completed', output: { result: false, next: null } });
      expect(events.slice(-3)).toEqual(['completed gate', 'skipped notify', 'skipped done']);
    });

    it('evaluates the output expression after an early end, without the skipped steps', async () => {
      const { engine } = setup();
      const flow = definition({
        ...dealFlow,
        steps: dealFlow.steps.map((s) => (s.id === 'gate' ? { ...s, else: null } : s)),
      });

      await expect(engine.run(flow, { input: fewDeals, run: RUN })).resolves.toEqual({
        status: 'completed',
        output: null,
      });
    });

    it('decides by plain truthiness of the value', async () => {
      const cases: [unknown, boolean][] = [
        [0, false],
        ['', false],
        [null, false],
        [1, true],
        ['no', true],
        [{}, true],
        [[0], true],
      ];
      for (const [value, expected] of cases) {
        const { engine } = setup();
        const flow = definition({
          steps: [{ id: 'gate', type: 'condition', expression: 'input.value', then: null, else: null }],
        });

        const outcome = await engine.run(flow, { input: { value }, run: RUN });

        expect(outcome).toEqual({ status: 'completed', output: { result: expected, next: null } });
      }
    });
  });

  describe('failures', () => {
    it('fails the run at a fail step with its rendered message and default code', async () => {
      const { engine, hooks, events, results } = setup();
      const flow = definition({
        steps: [
          { id: 'score', type: 'transform', expression: '$count(input.deals)' },
          { id: 'stop', type: 'fail', message: 'company {{ input.companyId }} has {{ steps.score.output }} deals' },
          { id: 'after', type: 'transform', expression: "'never'" },
        ],
      });

      const outcome = await engine.run(flow, { input: manyDeals, run: RUN }, hooks);

      const error = { code: 'workflow_failed', message: 'company c1 has 3 deals' };
      expect(outcome).toEqual({ status: 'failed', error: { ...error, stepId: 'stop' } });
      expect(results[1]).toMatchObject({ stepId: 'stop', type: 'fail', status: 'failed', error, attempts: 1 });
      expect(events).not.toContain('started after #1 at 0');
    });

    it('uses the code of the fail step when it has one', async () => {
      const { engine } = setup();
      const flow = definition({ steps: [{ id: 'stop', type: 'fail', message: 'no deals', code: 'no_deals' }] });

      await expect(engine.run(flow, { input: {}, run: RUN })).resolves.toEqual({
        status: 'failed',
        error: { code: 'no_deals', message: 'no deals', stepId: 'stop' },
      });
    });

    it('fails the run with expression_error and the step when an expression fails', async () => {
      const { engine, hooks, results } = setup();
      const flow = definition({
        steps: [
          { id: 'ok', type: 'transform', expression: '1' },
          { id: 'broken', type: 'transform', expression: 'input.name * 2' },
        ],
      });

      const outcome = await engine.run(flow, { input: { name: 'Ada' }, run: RUN }, hooks);

      expect(outcome).toMatchObject({ status: 'failed', error: { code: 'expression_error', stepId: 'broken' } });
      const message = outcome.status === 'failed' ? outcome.error.message : '';
      expect(message).toMatch(/must evaluate to a number at position \d+/);
      expect(message).not.toContain('Ada');
      expect(results[1]).toMatchObject({ status: 'failed', error: { code: 'expression_error', message } });
    });

    it('fails with the expression error of a fail message that does not evaluate', async () => {
      const { engine } = setup();
      const flow = definition({ steps: [{ id: 'stop', type: 'fail', message: 'x {{ input.a * 2 }}' }] });

      await expect(engine.run(flow, { input: { a: 'b' }, run: RUN })).resolves.toMatchObject({
        status: 'failed',
        error: { code: 'expression_error', stepId: 'stop' },
      });
    });

    it("bounds a step's expression by the step's timeoutMs, which replaces the evaluator's limit", async () => {
      const strict = new ExpressionEvaluator({ timeoutMs: 1 });
      const { engine } = setup({ evaluator: strict });
      const flow = (expression: string, timeoutMs?: number) =>
        definition({ steps: [{ id: 'loop', type: 'transform', expression, timeoutMs }] });

      try {
        await expect(engine.run(flow(RUNAWAY), { input: {}, run: RUN })).resolves.toEqual({
          status: 'failed',
          error: { code: 'expression_timeout', message: 'the expression did not finish within 1 ms', stepId: 'loop' },
        });
        await expect(engine.run(flow('$sum([1..100])', 30_000), { input: {}, run: RUN })).resolves.toEqual({
          status: 'completed',
          output: 5050,
        });
        await expect(setup().engine.run(flow(RUNAWAY, 30), { input: {}, run: RUN })).resolves.toEqual({
          status: 'failed',
          error: { code: 'expression_timeout', message: 'the expression did not finish within 30 ms', stepId: 'loop' },
        });
      } finally {
        await strict.close();
      }
    });

    it('does not retry errors that retrying cannot fix', async () => {
      const { engine, hooks, events, results, sleeps } = setup();
      const flow = definition({
        steps: [
          { id: 'broken', type: 'transform', expression: '$error("nope")', retry: { maxAttempts: 5, backoffMs: 10 } },
        ],
      });

      const outcome = await engine.run(flow, { input: {}, run: RUN }, hooks);

      expect(outcome).toMatchObject({ status: 'failed', error: { code: 'expression_error', stepId: 'broken' } });
      expect(events).toEqual(['started broken #1 at 0', 'failed broken']);
      expect(results[0]).toMatchObject({ attempts: 1 });
      expect(sleeps).toEqual([]);
    });

    it('fails the run with stepId null when the output expression fails', async () => {
      const { engine } = setup();
      const flow = definition({
        steps: [{ id: 'a', type: 'transform', expression: "'text'" }],
        output: 'steps.a.output + 1',
      });

      await expect(engine.run(flow, { input: {}, run: RUN })).resolves.toMatchObject({
        status: 'failed',
        error: { code: 'expression_error', stepId: null },
      });
    });

    it('lets errors of the hooks propagate', async () => {
      const { engine } = setup();
      const hooks: EngineHooks = {
        onStepFinished: async () => {
          throw new Error('database down');
        },
      };

      await expect(engine.run(dealFlow, { input: manyDeals, run: RUN }, hooks)).rejects.toThrow('database down');
    });
  });

  describe('run timeout', () => {
    const threeSteps = (timeoutMs?: number) =>
      definition({
        steps: ['first', 'second', 'third'].map((id) => ({ id, type: 'transform', expression: `'${id}'` })),
        timeoutMs,
      });

    it('fails the run with run_timeout and the step that would have run next', async () => {
      const { engine, hooks, events } = setup({ stepMs: 600 });

      const outcome = await engine.run(threeSteps(1000), { input: {}, run: RUN }, hooks);

      expect(outcome).toEqual({
        status: 'failed',
        error: { code: 'run_timeout', message: 'the run did not finish within 1000 ms', stepId: 'third' },
      });
      expect(events).toEqual([
        'started first #1 at 0',
        'completed first',
        'started second #1 at 600',
        'completed second',
      ]);
    });

    it('counts 15 minutes by default from when the run first started', async () => {
      const { engine, hooks, events } = setup();
      const params = { input: {}, run: RUN };

      await expect(
        engine.run(threeSteps(), { ...params, startedAt: new Date(START - 15 * 60_000 - 1) }, hooks),
      ).resolves.toMatchObject({ status: 'failed', error: { code: 'run_timeout', stepId: 'first' } });
      expect(events).toEqual([]);
      await expect(
        engine.run(threeSteps(), { ...params, startedAt: new Date(START - 15 * 60_000) }, hooks),
      ).resolves.toEqual({ status: 'completed', output: 'third' });
    });
  });

  describe('checkpoints', () => {
    const flow = definition({
      steps: [
        { id: 'fetch', type: 'transform', expression: '$error("fetch must not run again")' },
        {
          id: 'gate',
          type: 'condition',
          expression: '$error("gate must not run again")',
          then: 'notify',
          else: 'done',
        },
        { id: 'notify', type: 'transform', expression: "'notified'" },
        { id: 'extra', type: 'transform', expression: "'extra'" },
        { id: 'done', type: 'transform', expression: 'steps.fetch.output * 2' },
      ],
    });

    it('reuses the output of completed steps without running them or calling hooks', async () => {
      const { engine, hooks, events } = setup();
      const checkpoints = {
        fetch: { status: 'completed' as const, output: 21 },
        gate: { status: 'completed' as const, output: { result: false, next: 'done' } },
      };

      const outcome = await engine.run(flow, { input: {}, run: RUN, checkpoints }, hooks);

      expect(outcome).toEqual({ status: 'completed', output: 42 });
      // The jump recorded by the gate is taken again; the steps it skips had no record yet.
      expect(events).toEqual(['skipped notify', 'skipped extra', 'started done #1 at 0', 'completed done']);
    });

    it('leaves steps recorded as skipped alone', async () => {
      const { engine, hooks, events } = setup();
      const checkpoints = {
        fetch: { status: 'completed' as const, output: 21 },
        gate: { status: 'completed' as const, output: { result: false, next: 'done' } },
        notify: { status: 'skipped' as const },
        extra: { status: 'skipped' as const },
      };

      await expect(engine.run(flow, { input: {}, run: RUN, checkpoints }, hooks)).resolves.toEqual({
        status: 'completed',
        output: 42,
      });
      expect(events).toEqual(['started done #1 at 0', 'completed done']);
    });

    it('goes on from the first step without a checkpoint', async () => {
      const { engine, hooks, events } = setup();
      const checkpoints = {
        fetch: { status: 'completed' as const, output: 1 },
        gate: { status: 'completed' as const, output: { result: true, next: 'notify' } },
      };

      await expect(engine.run(flow, { input: {}, run: RUN, checkpoints }, hooks)).resolves.toEqual({
        status: 'completed',
        output: 2,
      });
      expect(events.filter((event) => event.startsWith('started'))).toEqual([
        'started notify #1 at 0',
        'started extra #1 at 0',
        'started done #1 at 0',
      ]);
    });
  });

  describe('cancellation and hooks', () => {
    it('ends as cancelled when shouldStop says so at a step boundary', async () => {
      const { engine, hooks, events } = setup({ stopAfter: 'score' });

      const outcome = await engine.run(dealFlow, { input: manyDeals, run: RUN }, hooks);

      expect(outcome).toEqual({ status: 'cancelled' });
      expect(events).toEqual(['started score #1 at 0', 'completed score']);
    });

    it('asks shouldStop before each step that runs and before the output, never for checkpoints', async () => {
      const calls: string[] = [];
      const engine = new WorkflowEngine(evaluator);
      const hooks: EngineHooks = {
        onStepStarted: async (step: StepDefinition, _startedAt, attempt) => {
          calls.push(`started ${step.id} #${attempt}`);
        },
        onStepFinished: async (result) => {
          calls.push(`${result.status} ${result.stepId}`);
        },
        shouldStop: async () => {
          calls.push('shouldStop');
          return false;
        },
      };
      const checkpoints = { score: { status: 'completed' as const, output: 1 } };

      await engine.run(dealFlow, { input: fewDeals, run: RUN, checkpoints }, hooks);

      expect(calls).toEqual([
        'shouldStop',
        'started gate #1',
        'completed gate',
        'skipped notify',
        'shouldStop',
        'started done #1',
        'completed done',
        'shouldStop',
      ]);
    });

    it('can be cancelled after the last step, before the output', async () => {
      const { engine, hooks } = setup({ stopAfter: 'done' });

      await expect(engine.run(dealFlow, { input: manyDeals, run: RUN }, hooks)).resolves.toEqual({
        status: 'cancelled',
      });
    });
  });

  describe('delay', () => {
    const delayed = (timeoutMs?: number) =>
      definition({
        steps: [
          { id: 'before', type: 'transform', expression: "'before'" },
          { id: 'pause', type: 'delay', durationMs: 5000 },
          { id: 'after', type: 'transform', expression: 'steps.pause.output' },
        ],
        timeoutMs,
      });

    it('reports the delay started and waiting, and returns waiting without sleeping or going on', async () => {
      const { engine, hooks, events, waiting, results, sleeps } = setup({ stepMs: 10 });

      const outcome = await engine.run(delayed(), { input: {}, run: RUN }, hooks);

      expect(outcome).toEqual({ status: 'waiting', stepId: 'pause', until: new Date(START + 5010) });
      expect(events).toEqual([
        'started before #1 at 0',
        'completed before',
        'started pause #1 at 10',
        'waiting pause until 5010',
      ]);
      expect(waiting).toEqual([
        {
          stepId: 'pause',
          type: 'delay',
          status: 'waiting',
          attempts: 1,
          startedAt: new Date(START + 10),
          until: new Date(START + 5010),
        },
      ]);
      expect(results.map((result) => result.stepId)).toEqual(['before']);
      expect(sleeps).toEqual([]);
    });

    it('returns waiting again with the same until, reporting nothing, while until has not come', async () => {
      const { engine, hooks, events, advance } = setup();
      const checkpoints: Record<string, Checkpoint> = {
        before: { status: 'completed', output: 'before' },
        pause: { status: 'waiting', until: new Date(START + 5000), startedAt: new Date(START) },
      };
      advance(4999);

      const outcome = await engine.run(
        delayed(),
        { input: {}, run: RUN, checkpoints, startedAt: new Date(START) },
        hooks,
      );

      expect(outcome).toEqual({ status: 'waiting', stepId: 'pause', until: new Date(START + 5000) });
      expect(events).toEqual([]);
    });

    it('completes the delay once until has passed, with the time waited as output, and goes on', async () => {
      const { engine, hooks, events, results, advance } = setup();
      const checkpoints: Record<string, Checkpoint> = {
        before: { status: 'completed', output: 'before' },
        pause: { status: 'waiting', until: new Date(START + 5000), startedAt: new Date(START) },
      };
      advance(5200);

      const outcome = await engine.run(
        delayed(),
        { input: {}, run: RUN, checkpoints, startedAt: new Date(START) },
        hooks,
      );

      expect(outcome).toEqual({ status: 'completed', output: { waitedMs: 5200 } });
      expect(events).toEqual(['completed pause', 'started after #1 at 5200', 'completed after']);
      expect(results[0]).toEqual({
        stepId: 'pause',
        type: 'delay',
        status: 'completed',
        output: { waitedMs: 5200 },
        attempts: 1,
        startedAt: new Date(START),
        finishedAt: new Date(START + 5200),
      });
    });

    it('takes the start of a waiting checkpoint without startedAt as until minus the duration', async () => {
      const { engine, hooks, results, advance } = setup();
      advance(8000);
      const checkpoints: Record<string, Checkpoint> = {
        before: { status: 'completed', output: 'before' },
        pause: { status: 'waiting', until: new Date(START + 8000) },
      };

      await expect(
        engine.run(delayed(), { input: {}, run: RUN, checkpoints, startedAt: new Date(START) }, hooks),
      ).resolves.toEqual({ status: 'completed', output: { waitedMs: 5000 } });
      expect(results[0]).toMatchObject({ stepId: 'pause', startedAt: new Date(START + 3000) });
    });

    it('goes through wait and resume as a caller would, recording checkpoints from the hooks', async () => {
      const { engine, events, advance, now } = setup();
      const checkpoints: Record<string, Checkpoint> = {};
      const hooks: EngineHooks = {
        onStepFinished: async (result) => {
          events.push(`${result.status} ${result.stepId}`);
          if (result.status === 'completed')
            checkpoints[result.stepId] = { status: 'completed', output: result.output };
        },
        onStepWaiting: async ({ stepId, until, startedAt }) => {
          checkpoints[stepId] = { status: 'waiting', until, startedAt };
        },
      };
      const params = { input: {}, run: RUN, checkpoints, startedAt: new Date(START) };

      const first = await engine.run(delayed(), params, hooks);
      expect(first).toEqual({ status: 'waiting', stepId: 'pause', until: new Date(START + 5000) });
      advance(1000);
      await expect(engine.run(delayed(), params, hooks)).resolves.toEqual(first);
      if (first.status === 'waiting') advance(first.until.getTime() - now());

      await expect(engine.run(delayed(), params, hooks)).resolves.toEqual({
        status: 'completed',
        output: { waitedMs: 5000 },
      });
      expect(events).toEqual(['completed before', 'completed pause', 'completed after']);
    });

    it('reuses a delay recorded as completed', async () => {
      const { engine, hooks, events } = setup();
      const checkpoints: Record<string, Checkpoint> = {
        before: { status: 'completed', output: 'before' },
        pause: { status: 'completed', output: { waitedMs: 5001 } },
      };

      await expect(engine.run(delayed(), { input: {}, run: RUN, checkpoints }, hooks)).resolves.toEqual({
        status: 'completed',
        output: { waitedMs: 5001 },
      });
      expect(events).toEqual(['started after #1 at 0', 'completed after']);
    });

    it('ends as cancelled at a waiting delay when shouldStop says so or the signal has fired', async () => {
      const checkpoints: Record<string, Checkpoint> = {
        before: { status: 'completed', output: 'before' },
        pause: { status: 'waiting', until: new Date(START) },
      };
      const { engine, hooks, events } = setup();
      const params = { input: {}, run: RUN, checkpoints };

      await expect(engine.run(delayed(), params, { ...hooks, shouldStop: async () => true })).resolves.toEqual({
        status: 'cancelled',
      });
      await expect(engine.run(delayed(), { ...params, signal: AbortSignal.abort() }, hooks)).resolves.toEqual({
        status: 'cancelled',
      });
      expect(events).toEqual([]);
    });

    it('fails with run_timeout, without starting, a delay that would end after the run deadline', async () => {
      const { engine, hooks, events } = setup({ stepMs: 6000 });

      const outcome = await engine.run(delayed(10_000), { input: {}, run: RUN }, hooks);

      expect(outcome).toEqual({
        status: 'failed',
        error: {
          code: 'run_timeout',
          message: 'the run cannot finish within 10000 ms: the 5000 ms delay would end after it',
          stepId: 'pause',
        },
      });
      expect(events).toEqual(['started before #1 at 0', 'completed before']);
    });

    it('starts a delay that ends exactly at the deadline', async () => {
      const { engine, hooks } = setup();
      const startedAt = new Date(START - 1000);

      await expect(engine.run(delayed(6000), { input: {}, run: RUN, startedAt }, hooks)).resolves.toEqual({
        status: 'waiting',
        stepId: 'pause',
        until: new Date(START + 5000),
      });
    });

    it('throws when a waiting checkpoint has no valid until: the caller recorded it wrong', async () => {
      const { engine, hooks } = setup();
      const checkpoints: Record<string, Checkpoint> = {
        before: { status: 'completed', output: 'before' },
        pause: { status: 'waiting' },
      };

      await expect(engine.run(delayed(), { input: {}, run: RUN, checkpoints }, hooks)).rejects.toThrow(
        'the waiting checkpoint of step "pause" has no valid until (a Date)',
      );
    });
  });

  describe('signal', () => {
    it('ends as cancelled at the next step boundary when the signal fires during a step', async () => {
      const controller = new AbortController();
      const { engine, events } = setup();
      const hooks: EngineHooks = {
        onStepFinished: async (result) => {
          events.push(`${result.status} ${result.stepId}`);
          if (result.stepId === 'score') controller.abort();
        },
      };

      const outcome = await engine.run(dealFlow, { input: manyDeals, run: RUN, signal: controller.signal }, hooks);

      expect(outcome).toEqual({ status: 'cancelled' });
      expect(events).toEqual(['completed score']);
    });

    it('stops a retry backoff early, without another attempt', async () => {
      const controller = new AbortController();
      let attempts = 0;
      const engine = new WorkflowEngine(evaluator, {
        // A backoff that would never end by itself.
        sleep: () => {
          controller.abort();
          return new Promise<void>(() => {});
        },
        // A retryable failure without a network.
        http: {
          resolver: async () => {
            throw Object.assign(new Error('down'), { code: 'EAI_AGAIN' });
          },
        },
      });
      const flow = definition({
        steps: [
          {
            id: 'call',
            type: 'http',
            request: { method: 'GET', url: 'https://hooks.example.com/' },
            retry: { maxAttempts: 5, backoffMs: 60_000 },
          },
        ],
      });
      const hooks: EngineHooks = {
        onStepStarted: async () => {
          attempts++;
        },
      };

      await expect(engine.run(flow, { input: {}, run: RUN, signal: controller.signal }, hooks)).resolves.toEqual({
        status: 'cancelled',
      });
      expect(attempts).toBe(1);
    });
  });
});
