import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';

import { InvalidInputError } from '../../common/errors.js';
import { Batcher } from '../../common/batcher.js';
import { jsonInputRefusal } from '../../common/database-errors.js';
import { withTimeout } from '../../common/timeout.js';
import { poolOf, preparedQuery, rowsOf } from '../../database/sql.js';
import type { RunError, RunStatus, StepStatus, TriggerType } from './run-status.js';
import { WorkflowRunStep } from './workflow-run-step.entity.js';
import { WorkflowRun } from './workflow-run.entity.js';

export interface NewRun {
  id: string;
  workflowId: string;
  /** Null: the workflow's current version, read in the insert itself. */
  workflowVersion: number | null;
  triggerType: TriggerType;
  triggerId: string | null;
  webhookId: string | null;
  idempotencyKey: string | null;
  rerunOf: string | null;
  /** The input as JSON text: a webhook's body goes to PostgreSQL as received, without a re-serialisation. */
  inputJson: string;
  /** The webhook delivery that starts the run, logged in the run's row; null for other runs. */
  delivery: RunDelivery | null;
}

/** What the delivery log shows of the request that started a run (never its body or headers). */
export interface RunDelivery {
  requestId: string | null;
  bodyBytes: number;
  bodySha256: string;
}

/** A run started by a verified webhook delivery: what the ingest's insert takes. */
export interface NewWebhookRun {
  id: string;
  workflowId: string;
  triggerId: string;
  webhookId: string;
  inputJson: string;
  delivery: RunDelivery;
}

export interface InsertedRun {
  id: string;
  workflowId: string;
  status: RunStatus;
  /** False when a run with the same webhook id or idempotency key already existed: this is that run. */
  created: boolean;
}

export interface RunFilter {
  workflowId?: string;
  status?: RunStatus;
}

/** The whole state of one step of a run, as written: every write replaces the row. */
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

/** A step row's columns, as the JSON arrays of step states carry them. */
const STEP_RECORD = `step_id text, position int, type text, status text, attempts int,
  started_at timestamptz, finished_at timestamptz, output jsonb, error jsonb`;

/** A `pending` row never overwrites a row that exists. */
const ON_STEP_CONFLICT = `ON CONFLICT (run_id, step_id) DO UPDATE
     SET status = EXCLUDED.status, attempts = EXCLUDED.attempts, started_at = EXCLUDED.started_at,
         finished_at = EXCLUDED.finished_at, output = EXCLUDED.output, error = EXCLUDED.error
   WHERE EXCLUDED.status <> 'pending'`;

/**
 * Upserts step rows from a JSON array, but only while the run is still `running` under this claim
 * (`$2`, the attempt): the run row is share-locked, so a newer claim waits for this write, never the
 * other way round.
 */
const UPSERT_STEPS = `
  INSERT INTO workflow_run_steps (run_id, step_id, position, type, status, attempts, started_at, finished_at, output, error)
  SELECT $1, s.step_id, s.position, s.type, s.status, s.attempts, s.started_at, s.finished_at, s.output, s.error
    FROM fence, jsonb_to_recordset($3::jsonb) AS s(${STEP_RECORD})
  ${ON_STEP_CONFLICT}`;

/** Listed, not `*`: the claim is a prepared statement, whose result columns must not change under it. */
const RUN_COLUMNS = `id, workflow_id, workflow_version, status, trigger_type, trigger_id, webhook_id, idempotency_key,
  rerun_of, input, output, error, attempt, wake_at, checked_at, created_at, started_at, completed_at`;

/**
 * Claims a batch of runs (`$1` their ids, `$2` when each was claimed): bumps each one's attempt
 * counter, which fences every later write of that claim. A run that has finished is left out.
 *
 * Here and in FINISH_RUNS, `r.id = ANY(ids)` makes the primary key the way in. Joined only to a set
 * returned by a function, whose size the planner guesses at 100 rows, a small or freshly emptied table
 * was scanned whole instead.
 */
const CLAIM_RUNS = `
  UPDATE workflow_runs r
     SET status = 'running', attempt = r.attempt + 1, started_at = COALESCE(r.started_at, c.claimed_at)
    FROM unnest($1::uuid[], $2::timestamptz[]) AS c(id, claimed_at)
   WHERE r.id = ANY($1::uuid[]) AND r.id = c.id AND r.status IN ('queued', 'running')
  RETURNING ${RUN_COLUMNS.replace(/\w+/g, 'r.$&')}`;

/**
 * Ends a batch of runs (`$1`, a JSON array of outcomes; `$2`, their ids) and writes their last step
 * states, each fenced by its claim: only a run still `running` under that attempt changes, so a
 * terminal status never does. Returns the ids of the runs it ended.
 */
const FINISH_RUNS = `
  WITH outcome AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb)
             AS o(id uuid, attempt int, status text, output jsonb, error jsonb, completed_at timestamptz, steps jsonb)),
       fence AS (
         UPDATE workflow_runs r
            SET status = o.status, output = o.output, error = o.error, completed_at = o.completed_at
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
         RETURNING 1)
  SELECT id FROM fence`;

/**
 * Claims and ends go to PostgreSQL in batches: the runs that workers claim (or end) while two such
 * statements are in flight go together in the next one. A one-row update costs PostgreSQL about as
 * much CPU as a batch of five (the round trip, the transaction and its commit), which under load was
 * most of what a run cost it. Two claims (or ends) of one run go one after the other.
 */
const RUN_WRITE_BATCHING = { maxInFlight: 2, maxBatch: 50, keyOf: (item: { id: string }) => item.id };

/**
 * Webhook runs are inserted in batches of up to 50, with four statements in flight: a delivery waits
 * at most for one insert to return, and a busy ingest commits many runs at once. A delivery whose id is
 * being inserted waits for that insert, then finds its run.
 */
const WEBHOOK_INSERT_BATCHING = {
  maxInFlight: 4,
  maxBatch: 50,
  keyOf: deliveryKey,
};

/** The insert of `count` webhook runs, eight parameters a run; one statement text per count. */
const insertWebhookRunsSql = (() => {
  const texts: string[] = [];
  return (count: number): string => {
    texts[count] ??= `INSERT INTO workflow_runs
         (id, workflow_id, workflow_version, status, trigger_type, trigger_id, webhook_id, input,
          request_id, body_bytes, body_sha256)
       VALUES ${Array.from({ length: count }, (_, i) => {
         const p = (n: number) => `$${i * 8 + n}`;
         return `(${p(1)}::uuid, ${p(2)}::uuid, (SELECT version FROM workflows WHERE id = ${p(2)}::uuid), 'queued', 'webhook',
                ${p(3)}::uuid, ${p(4)}::text, ${p(5)}::jsonb, ${p(6)}::text, ${p(7)}::int, ${p(8)}::text)`;
       }).join(',\n              ')}
       ON CONFLICT (trigger_id, webhook_id) WHERE webhook_id IS NOT NULL DO NOTHING
       RETURNING id`;
    return texts[count];
  };
})();

/** What makes two webhook runs one delivery (the webhook dedupe index). */
function deliveryKey(run: NewWebhookRun): string {
  return `${run.triggerId} ${run.webhookId}`;
}

function byDeliveryKey(a: NewWebhookRun, b: NewWebhookRun): number {
  const [x, y] = [deliveryKey(a), deliveryKey(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

interface ClaimItem {
  id: string;
  claimedAt: Date;
}

/** How one run ended, as FINISH_RUNS reads it. */
interface FinishItem {
  id: string;
  attempt: number;
  status: 'completed' | 'failed';
  output: unknown;
  error: RunError | null;
  completed_at: Date;
  steps: StepRecord[];
}

/** An insert whose input `jsonb` refused is the sender's error, 400 `invalid_json`; nothing was written. */
function refusedJsonIsInvalidInput(error: unknown): never {
  const refusal = jsonInputRefusal(error);
  if (refusal !== null) throw new InvalidInputError('invalid_json', refusal);
  throw error;
}

@Injectable()
export class RunsRepository {
  /** The pool under TypeORM: the hot paths (ingest, worker) send plain parameterised SQL straight to it. */
  private readonly pool: Pool;
  private readonly claims: Batcher<ClaimItem, RunRow | null>;
  private readonly finishes: Batcher<FinishItem, boolean>;
  private readonly webhookInserts: Batcher<NewWebhookRun, boolean>;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.pool = poolOf(dataSource);
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
    this.webhookInserts = new Batcher((runs) => this.insertWebhookRuns(runs), WEBHOOK_INSERT_BATCHING);
  }

  private sql<T>(text: string, params: unknown[]): Promise<T[]> {
    return preparedQuery<T>(this.pool, text, params);
  }

  /**
   * One statement: the unique keys on (trigger_id, webhook_id) and (workflow_id, idempotency_key) turn a
   * duplicate into a no-op, and the first run is read back. Concurrent duplicates wait for the winner's
   * commit, so exactly one run exists whatever the parallelism.
   */
  async insertUnlessDuplicate(run: NewRun): Promise<InsertedRun> {
    const inserted = await this.sql<{ id: string }>(
      `INSERT INTO workflow_runs
         (id, workflow_id, workflow_version, status, trigger_type, trigger_id, webhook_id, idempotency_key, rerun_of, input,
          request_id, body_bytes, body_sha256)
       VALUES ($1, $2, COALESCE($3::int, (SELECT version FROM workflows WHERE id = $2)), 'queued', $4, $5, $6, $7, $8, $9::jsonb,
               $10, $11, $12)
       ON CONFLICT DO NOTHING
       RETURNING id`,
      [
        run.id,
        run.workflowId,
        run.workflowVersion,
        run.triggerType,
        run.triggerId,
        run.webhookId,
        run.idempotencyKey,
        run.rerunOf,
        run.inputJson,
        run.delivery?.requestId ?? null,
        run.delivery?.bodyBytes ?? null,
        run.delivery?.bodySha256 ?? null,
      ],
    ).catch(refusedJsonIsInvalidInput);
    if (inserted.length > 0) return { id: run.id, workflowId: run.workflowId, status: 'queued', created: true };
    return this.existing(run);
  }

  /**
   * The ingest's insert, as `insertUnlessDuplicate` for a webhook run but leaner, on the busiest path:
   * eight parameters a run instead of twelve, the webhook dedupe index named as the only conflict that
   * is a duplicate (a run id is new, and webhook runs have no idempotency key), and batched: the
   * deliveries accepted while inserts are in flight are inserted together, in one statement and one
   * commit. A body that `jsonb` refuses fails its batch, which is then retried run by run, so that it
   * answers 400 and the others 202. Past `deadline` the caller gets a TimeoutError (503) and a run still
   * waiting to be sent is never inserted; one already sent may still commit, and then runs.
   */
  async insertWebhookRun(run: NewWebhookRun, deadline: number): Promise<InsertedRun> {
    const created = await this.webhookInserts.submit(run, deadline).catch(refusedJsonIsInvalidInput);
    if (created) return { id: run.id, workflowId: run.workflowId, status: 'queued', created: true };
    return withTimeout(this.existing({ ...run, idempotencyKey: null }), deadline - Date.now(), 'Finding the first run');
  }

  /** Inserts a batch of webhook runs; true for each one inserted, false for a duplicate delivery. */
  private async insertWebhookRuns(runs: NewWebhookRun[]): Promise<boolean[]> {
    // In dedupe-key order, so that two batches holding the same deliveries wait on each other in one order.
    const sorted = [...runs].sort(byDeliveryKey);
    const params: unknown[] = [];
    for (const run of sorted) {
      params.push(
        run.id,
        run.workflowId,
        run.triggerId,
        run.webhookId,
        run.inputJson,
        run.delivery.requestId,
        run.delivery.bodyBytes,
        run.delivery.bodySha256,
      );
    }
    const inserted = await this.sql<{ id: string }>(insertWebhookRunsSql(sorted.length), params);
    const ids = new Set(inserted.map((row) => row.id));
    return runs.map((run) => ids.has(run.id));
  }

  /** The run a duplicate insert ran into: the one with the same webhook id, or else the same idempotency key. */
  private async existing(run: {
    id: string;
    workflowId: string;
    triggerId: string | null;
    webhookId: string | null;
    idempotencyKey: string | null;
  }): Promise<InsertedRun> {
    const existing: { id: string; workflow_id: string; status: RunStatus }[] =
      run.webhookId !== null
        ? await this.sql<{ id: string; workflow_id: string; status: RunStatus }>(
            'SELECT id, workflow_id, status FROM workflow_runs WHERE trigger_id = $1 AND webhook_id = $2',
            [run.triggerId, run.webhookId],
          )
        : await this.sql<{ id: string; workflow_id: string; status: RunStatus }>(
            'SELECT id, workflow_id, status FROM workflow_runs WHERE workflow_id = $1 AND idempotency_key = $2',
            [run.workflowId, run.idempotencyKey],
          );
    if (existing.length === 0) throw new Error(`Run insert conflicted on an unexpected key (run ${run.id})`);
    return { id: existing[0].id, workflowId: existing[0].workflow_id, status: existing[0].status, created: false };
  }

  findWithSteps(id: string): Promise<WorkflowRun | null> {
    return this.dataSource.manager
      .createQueryBuilder(WorkflowRun, 'r')
      .leftJoinAndSelect('r.steps', 's')
      .where('r.id = :id', { id })
      .orderBy('s.position', 'ASC')
      .getOne();
  }

  findById(id: string): Promise<WorkflowRun | null> {
    return this.dataSource.manager.findOneBy(WorkflowRun, { id });
  }

  /** Newest first; steps are loaded for the page only. */
  async list(filter: RunFilter, limit: number, beforeId: string | null): Promise<WorkflowRun[]> {
    const query = this.dataSource.manager
      .createQueryBuilder(WorkflowRun, 'r')
      .orderBy('r.id', 'DESC')
      .limit(limit + 1);
    if (filter.workflowId) query.andWhere('r.workflow_id = :workflowId', { workflowId: filter.workflowId });
    if (filter.status) query.andWhere('r.status = :status', { status: filter.status });
    if (beforeId) query.andWhere('r.id < :beforeId', { beforeId });
    const runs = await query.getMany();
    if (runs.length === 0) return runs;
    const steps = await this.dataSource.manager
      .createQueryBuilder(WorkflowRunStep, 's')
      .where('s.run_id IN (:...ids)', { ids: runs.map((r) => r.id) })
      .orderBy('s.position', 'ASC')
      .getMany();
    for (const run of runs) run.steps = steps.filter((s) => s.runId === run.id);
    return runs;
  }

  /** Cancels a run that has not finished; its unfinished steps are marked skipped. Null when it had finished. */
  async cancel(id: string, now: Date): Promise<boolean> {
    return this.dataSource.transaction(async (tx) => {
      const updated = rowsOf(
        await tx.query(
          `UPDATE workflow_runs SET status = 'cancelled', completed_at = $2
            WHERE id = $1 AND status IN ('queued', 'running') RETURNING id`,
          [id, now],
        ),
      );
      if (updated.length === 0) return false;
      await tx.query(
        `UPDATE workflow_run_steps SET status = 'skipped'
          WHERE run_id = $1 AND status IN ('pending', 'running', 'waiting')`,
        [id],
      );
      return true;
    });
  }

  /** Puts a failed run back in the queue: its failed and skipped steps run again, completed ones are kept. */
  async reopenFailed(id: string): Promise<boolean> {
    return this.dataSource.transaction(async (tx) => {
      const updated = rowsOf(
        await tx.query(
          `UPDATE workflow_runs SET status = 'queued', error = NULL, output = NULL, completed_at = NULL
            WHERE id = $1 AND status = 'failed' RETURNING id`,
          [id],
        ),
      );
      if (updated.length === 0) return false;
      await tx.query(
        `UPDATE workflow_run_steps
            SET status = 'pending', error = NULL, output = NULL, started_at = NULL, finished_at = NULL
          WHERE run_id = $1 AND status IN ('failed', 'skipped', 'running', 'waiting')`,
        [id],
      );
      return true;
    });
  }

  /**
   * Claims a run for execution: bumps its attempt counter, which fences every later write of this claim,
   * and returns the run, with its steps when an earlier claim wrote some. Null when the run is finished
   * (or gone): the job has nothing to do.
   */
  async claim(id: string, now: Date): Promise<WorkflowRun | null> {
    const row = await this.claims.submit({ id, claimedAt: now });
    if (row === null) return null;
    const run = toRun(row);
    // Step rows exist only if an earlier claim (a crash, a stall, a retry) wrote them.
    run.steps =
      run.attempt > 1
        ? await this.dataSource.manager.find(WorkflowRunStep, { where: { runId: id }, order: { position: 'ASC' } })
        : [];
    return run;
  }

  /** Writes steps' state in one statement, unless a newer claim of the run exists or the run has finished. */
  async writeSteps(runId: string, attempt: number, steps: StepRow[]): Promise<boolean> {
    if (steps.length === 0) return true;
    const rows = await this.sql<unknown>(
      `WITH fence AS (SELECT id FROM workflow_runs WHERE id = $1 AND attempt = $2 AND status = 'running' FOR SHARE)
         ${UPSERT_STEPS} RETURNING step_id`,
      [runId, attempt, stepsJson(steps)],
    );
    return rows.length > 0;
  }

  /** When a waiting run (a delay step) is due, fenced by its claim. */
  async setWakeAt(runId: string, attempt: number, wakeAt: Date): Promise<void> {
    await this.sql(`UPDATE workflow_runs SET wake_at = $3 WHERE id = $1 AND attempt = $2 AND status = 'running'`, [
      runId,
      attempt,
      wakeAt,
    ]);
  }

  /**
   * Ends a run and writes its last step states in one statement, fenced by its claim; a terminal status
   * never changes. False when this claim is stale or the run had already ended.
   */
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

  /**
   * Takes a batch of unfinished runs that nobody checked recently and marks them checked, in one
   * statement; SKIP LOCKED lets several processes reconcile at once without taking the same runs.
   * Runs younger than `createdBefore` are left alone: their first enqueue may still be under way.
   */
  async takeUnfinishedForCheck(
    createdBefore: Date,
    checkedBefore: Date,
    limit: number,
  ): Promise<{ id: string; wakeAt: Date | null }[]> {
    const rows = await this.sql<{ id: string; wake_at: Date | null }>(
      // A CTE, not `WHERE id IN (subquery)`: the planner may run such a subquery more than once, and
      // with SKIP LOCKED each run can see other rows. `completed_at IS NULL` is what the index of
      // unfinished runs is keyed on (a CHECK holds it to the status).
      `WITH due AS (
           SELECT id FROM workflow_runs
            WHERE completed_at IS NULL AND created_at < $1
              AND (checked_at IS NULL OR checked_at < $2)
            ORDER BY checked_at NULLS FIRST, id
            LIMIT $3
            FOR UPDATE SKIP LOCKED)
         UPDATE workflow_runs r SET checked_at = now() FROM due WHERE r.id = due.id
         RETURNING r.id, r.wake_at`,
      [createdBefore, checkedBefore, limit],
    );
    return rows.map((r) => ({ id: r.id, wakeAt: r.wake_at }));
  }

  /** Ends a run that cannot be executed (its job failed for good), unless it already finished. */
  async failUnfinished(runId: string, error: RunError, now: Date): Promise<boolean> {
    const rows = await this.sql<unknown>(
      `UPDATE workflow_runs SET status = 'failed', error = $2::jsonb, completed_at = $3
          WHERE id = $1 AND status IN ('queued', 'running') RETURNING id`,
      [runId, JSON.stringify(error), now],
    );
    return rows.length > 0;
  }

  async statusOf(runId: string): Promise<RunStatus | null> {
    const rows = await this.sql<{ status: RunStatus }>('SELECT status FROM workflow_runs WHERE id = $1', [runId]);
    return rows[0]?.status ?? null;
  }
}

type RunRow = {
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
};

function toRun(row: RunRow): WorkflowRun {
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
  };
}

/** A step's state as the JSON arrays of UPSERT_STEPS and FINISH_RUNS carry it. */
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

function stepsJson(steps: StepRow[]): string {
  return JSON.stringify(steps.map(toStepRecord));
}
