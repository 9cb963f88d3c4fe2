import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';

import { Batcher } from '../../common/batcher.util.js';
import { PG_POOL } from '../../database/database.module.js';
import { preparedQuery } from '../../database/prepared-query.helper.js';
import { runsEndedNotice } from './run-ends.sql.js';
import type { RunError, RunStatus, StepStatus, TriggerType } from './run-status.types.js';
import type { WorkflowRunStep } from './workflow-run-step.entity.js';
import type { WorkflowRun } from './workflow-run.entity.js';

export interface StepRow {
  stepId: string;
  position: number;
  type: string;
  status: StepStatus;
  attempts: number;
  startedAt: Date | null;
  finishedAt: Date | null;
  output: unknown;
  error: { code: string; message: string } | null;
}

const STEP_RECORD = `step_id text, position int, type text, status text, attempts int,
  started_at timestamptz, finished_at timestamptz, output jsonb, error jsonb`;

/** A `pending` row never overwrites a row that exists. */
const ON_STEP_CONFLICT = `ON CONFLICT (run_id, step_id) DO UPDATE
     SET status = EXCLUDED.status, attempts = EXCLUDED.attempts, started_at = EXCLUDED.started_at,
         finished_at = EXCLUDED.finished_at, output = EXCLUDED.output, error = EXCLUDED.error
   WHERE EXCLUDED.status <> 'pending'`;

// FOR SHARE on the run row: a newer claim waits for this write, never the other way round.
const WRITE_STEPS = `
  WITH fence AS (SELECT id FROM workflow_runs WHERE id = $1 AND attempt = $2 AND status = 'running' FOR SHARE)
  INSERT INTO workflow_run_steps (run_id, step_id, position, type, status, attempts, started_at, finished_at, output, error)
  SELECT $1, s.step_id, s.position, s.type, s.status, s.attempts, s.started_at, s.finished_at, s.output, s.error
    FROM fence, jsonb_to_recordset($3::jsonb) AS s(${STEP_RECORD})
  ${ON_STEP_CONFLICT}
  RETURNING step_id`;

/** Listed, not `*`: a prepared statement's result columns must not change under it. */
export const RUN_COLUMNS = `id, workflow_id, workflow_version, status, trigger_type, trigger_id, webhook_id, idempotency_key,
  rerun_of, input, output, error, attempt, wake_at, checked_at, created_at, started_at, completed_at, concurrency_key`;

// `r.id = ANY($1)` makes the primary key the way in: joined only to unnest(), the planner may scan a small table whole.
const CLAIM_RUNS = `
  UPDATE workflow_runs r
     SET status = 'running', attempt = r.attempt + 1, started_at = COALESCE(r.started_at, c.claimed_at),
         updated_at = now()
    FROM unnest($1::uuid[], $2::timestamptz[]) AS c(id, claimed_at)
   WHERE r.id = ANY($1::uuid[]) AND r.id = c.id AND r.status IN ('queued', 'running')
     AND (r.status = 'running' OR NOT r.flow_control) -- flow-controlled runs are admitted by FlowControlService
  RETURNING ${RUN_COLUMNS.replace(/\w+/g, 'r.$&')}`;

const STEPS_OF_RUN = `
  SELECT step_id, position, type, status, attempts, started_at, finished_at, output, error
    FROM workflow_run_steps WHERE run_id = $1 ORDER BY position`;

const FINISH_RUNS = `
  WITH outcome AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb)
             AS o(id uuid, attempt int, status text, output jsonb, error jsonb, completed_at timestamptz, steps jsonb)),
       fence AS (
         UPDATE workflow_runs r
            SET status = o.status, output = o.output, error = o.error, completed_at = o.completed_at,
                updated_at = now()
           FROM outcome o
          WHERE r.id = ANY($2::uuid[]) AND r.id = o.id AND r.attempt = o.attempt AND r.status = 'running'
         RETURNING r.id),
       written AS (
         INSERT INTO workflow_run_steps
           (run_id, step_id, position, type, status, attempts, started_at, finished_at, output, error)
         SELECT fence.id, s.step_id, s.position, s.type, s.status, s.attempts, s.started_at, s.finished_at,
                s.output, s.error
           FROM fence JOIN outcome o ON o.id = fence.id, jsonb_to_recordset(o.steps) AS s(${STEP_RECORD})
         ${ON_STEP_CONFLICT}
         RETURNING 1),
       notified AS (${runsEndedNotice('fence')})
  SELECT id FROM fence, notified`;

// A CTE, not `IN (subquery)`: the planner may run a subquery twice, and under SKIP LOCKED see other rows.
const TAKE_UNFINISHED = `
  WITH due AS (
      SELECT id FROM workflow_runs
       WHERE completed_at IS NULL AND created_at < $1
         AND (checked_at IS NULL OR checked_at < $2)
       ORDER BY checked_at NULLS FIRST, id
       LIMIT $3
       FOR UPDATE SKIP LOCKED)
  UPDATE workflow_runs r SET checked_at = now() FROM due WHERE r.id = due.id
  RETURNING r.id, r.wake_at, r.status = 'running' AND r.attempt > 0 AS claimed`;

const FAIL_UNFINISHED = `
  WITH ended AS (
         UPDATE workflow_runs SET status = 'failed', error = $2::jsonb, completed_at = $3, updated_at = now()
          WHERE id = $1 AND status IN ('queued', 'running')
         RETURNING id, workflow_id, started_at),
       notified AS (${runsEndedNotice('ended')})
  SELECT workflow_id, started_at FROM ended, notified`;

const RUN_WRITE_BATCHING = { maxInFlight: 2, maxBatch: 50, keyOf: (item: { id: string }) => item.id };

interface ClaimItem {
  id: string;
  claimedAt: Date;
}

interface FinishItem {
  id: string;
  attempt: number;
  status: 'completed' | 'failed';
  output: unknown;
  error: RunError | null;
  completed_at: Date;
  steps: StepRecord[];
}

@Injectable()
export class RunClaimsRepository {
  private readonly claims: Batcher<ClaimItem, RunRow | null>;
  private readonly finishes: Batcher<FinishItem, boolean>;

  constructor(@Inject(PG_POOL) private readonly pool: Pool) {
    // Each batch takes its rows' locks in id order, as every other batch does.
    this.claims = new Batcher<ClaimItem, RunRow | null>(async (items) => {
      const sorted = [...items].sort(byId);
      const rows = await this.sql<RunRow>(CLAIM_RUNS, [sorted.map((c) => c.id), sorted.map((c) => c.claimedAt)]);
      const claimed = new Map(rows.map((row) => [row.id, row]));
      return items.map((c) => claimed.get(c.id) ?? null);
    }, RUN_WRITE_BATCHING);
    this.finishes = new Batcher<FinishItem, boolean>(async (items) => {
      const sorted = [...items].sort(byId);
      const rows = await this.sql<{ id: string }>(FINISH_RUNS, [JSON.stringify(sorted), sorted.map((f) => f.id)]);
      const ended = new Set(rows.map((row) => row.id));
      return items.map((f) => ended.has(f.id));
    }, RUN_WRITE_BATCHING);
  }

  private sql<T>(text: string, params: unknown[]): Promise<T[]> {
    return preparedQuery<T>(this.pool, text, params);
  }

  async claim(id: string, now: Date): Promise<WorkflowRun | null> {
    const row = await this.claims.submit({ id, claimedAt: now });
    if (row === null) return null;
    const run = toRun(row);
    run.steps = run.attempt > 1 ? (await this.sql<StepRecordRow>(STEPS_OF_RUN, [id])).map((s) => toStep(id, s)) : [];
    return run;
  }

  /** A run admitted elsewhere (flow control), with its checkpoints as `claim` returns them. */
  async withSteps(row: RunRow): Promise<WorkflowRun> {
    const run = toRun(row);
    run.steps =
      run.attempt > 1 ? (await this.sql<StepRecordRow>(STEPS_OF_RUN, [run.id])).map((s) => toStep(run.id, s)) : [];
    return run;
  }

  async writeSteps(runId: string, attempt: number, steps: StepRow[]): Promise<boolean> {
    if (steps.length === 0) return true;
    const rows = await this.sql<unknown>(WRITE_STEPS, [runId, attempt, JSON.stringify(steps.map(toStepRecord))]);
    return rows.length > 0;
  }

  async setWakeAt(runId: string, attempt: number, wakeAt: Date): Promise<void> {
    await this.sql(`UPDATE workflow_runs SET wake_at = $3 WHERE id = $1 AND attempt = $2 AND status = 'running'`, [
      runId,
      attempt,
      wakeAt,
    ]);
  }

  async finish(
    runId: string,
    attempt: number,
    outcome: { status: 'completed'; output: unknown } | { status: 'failed'; error: RunError },
    now: Date,
    steps: StepRow[] = [],
  ): Promise<boolean> {
    return this.finishes.submit({
      id: runId,
      attempt,
      status: outcome.status,
      output: outcome.status === 'completed' ? (outcome.output ?? null) : null,
      error: outcome.status === 'failed' ? outcome.error : null,
      completed_at: now,
      steps: steps.map(toStepRecord),
    });
  }

  /** Null when the run had already ended. */
  async failUnfinished(
    runId: string,
    error: RunError,
    now: Date,
  ): Promise<{ workflowId: string; startedAt: Date | null } | null> {
    const rows = await this.sql<{ workflow_id: string; started_at: Date | null }>(FAIL_UNFINISHED, [
      runId,
      JSON.stringify(error),
      now,
    ]);
    return rows[0] ? { workflowId: rows[0].workflow_id, startedAt: rows[0].started_at } : null;
  }

  async statusesOf(runIds: string[]): Promise<Map<string, RunStatus>> {
    const rows = await this.sql<{ id: string; status: RunStatus }>(
      'SELECT id, status FROM workflow_runs WHERE id = ANY($1::uuid[])',
      [runIds],
    );
    return new Map(rows.map((row) => [row.id, row.status]));
  }

  async statusOf(runId: string): Promise<RunStatus | null> {
    const rows = await this.sql<{ status: RunStatus }>('SELECT status FROM workflow_runs WHERE id = $1', [runId]);
    return rows[0]?.status ?? null;
  }

  async unfinishedAmong(ids: string[]): Promise<Set<string>> {
    const rows = await this.sql<{ id: string }>(
      'SELECT id FROM workflow_runs WHERE id = ANY($1::uuid[]) AND completed_at IS NULL',
      [ids],
    );
    return new Set(rows.map((row) => row.id));
  }

  /** Runs younger than `createdBefore` may still be being enqueued. */
  async takeUnfinishedForCheck(
    createdBefore: Date,
    checkedBefore: Date,
    limit: number,
  ): Promise<{ id: string; wakeAt: Date | null; claimed: boolean }[]> {
    const rows = await this.sql<{ id: string; wake_at: Date | null; claimed: boolean }>(TAKE_UNFINISHED, [
      createdBefore,
      checkedBefore,
      limit,
    ]);
    return rows.map((r) => ({ id: r.id, wakeAt: r.wake_at, claimed: r.claimed }));
  }
}

function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export type RunRow = {
  id: string;
  workflow_id: string;
  workflow_version: number;
  status: RunStatus;
  trigger_type: TriggerType;
  trigger_id: string | null;
  webhook_id: string | null;
  idempotency_key: string | null;
  rerun_of: string | null;
  input: unknown;
  output: unknown;
  error: RunError | null;
  attempt: number;
  wake_at: Date | null;
  checked_at: Date | null;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  concurrency_key: string | null;
};

export function toRun(row: RunRow): WorkflowRun {
  return {
    id: row.id,
    workflowId: row.workflow_id,
    workflowVersion: row.workflow_version,
    status: row.status,
    triggerType: row.trigger_type,
    triggerId: row.trigger_id,
    webhookId: row.webhook_id,
    idempotencyKey: row.idempotency_key,
    rerunOf: row.rerun_of,
    input: row.input,
    output: row.output,
    error: row.error,
    attempt: row.attempt,
    wakeAt: row.wake_at,
    checkedAt: row.checked_at,
    createdAt: row.created_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    concurrencyKey: row.concurrency_key,
  };
}

interface StepRecord {
  step_id: string;
  position: number;
  type: string;
  status: StepStatus;
  attempts: number;
  started_at: Date | null;
  finished_at: Date | null;
  output: unknown;
  error: { code: string; message: string } | null;
}

type StepRecordRow = StepRecord;

function toStepRecord(s: StepRow): StepRecord {
  return {
    step_id: s.stepId,
    position: s.position,
    type: s.type,
    status: s.status,
    attempts: s.attempts,
    started_at: s.startedAt,
    finished_at: s.finishedAt,
    output: s.output ?? null,
    error: s.error,
  };
}

function toStep(runId: string, s: StepRecordRow): WorkflowRunStep {
  return {
    runId,
    stepId: s.step_id,
    position: s.position,
    type: s.type,
    status: s.status,
    attempts: s.attempts,
    startedAt: s.started_at,
    finishedAt: s.finished_at,
    output: s.output,
    error: s.error,
  };
}
