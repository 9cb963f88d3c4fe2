import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { InvalidInputError } from '../../common/errors.js';
import { isUnstorableJson } from '../../common/database-errors.js';
import { rowsOf } from '../../database/sql.js';
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

export interface StepRecord {
  stepId: string;
  status: StepStatus;
  attempts?: number;
  startedAt?: Date | null;
  finishedAt?: Date | null;
  output?: unknown;
  error?: { code: string; message: string } | null;
}

@Injectable()
export class RunsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * One statement: the unique keys on (trigger_id, webhook_id) and (workflow_id, idempotency_key) turn a
   * duplicate into a no-op, and the first run is read back. Concurrent duplicates wait for the winner's
   * commit, so exactly one run exists whatever the parallelism.
   */
  async insertUnlessDuplicate(run: NewRun): Promise<InsertedRun> {
    const inserted: { id: string }[] = await this.dataSource
      .query(
        `INSERT INTO workflow_runs
         (id, workflow_id, workflow_version, status, trigger_type, trigger_id, webhook_id, idempotency_key, rerun_of, input)
       VALUES ($1, $2, COALESCE($3::int, (SELECT version FROM workflows WHERE id = $2)), 'queued', $4, $5, $6, $7, $8, $9::jsonb)
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
        ],
      )
      .catch((error: unknown) => {
        if (isUnstorableJson(error)) {
          throw new InvalidInputError('invalid_json', 'Input holds JSON that cannot be stored (a \\u0000 in a string)');
        }
        throw error;
      });
    if (inserted.length > 0) return { id: run.id, workflowId: run.workflowId, status: 'queued', created: true };
    const existing: { id: string; workflow_id: string; status: RunStatus }[] =
      run.webhookId !== null
        ? await this.dataSource.query(
            'SELECT id, workflow_id, status FROM workflow_runs WHERE trigger_id = $1 AND webhook_id = $2',
            [run.triggerId, run.webhookId],
          )
        : await this.dataSource.query(
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
   * Claims a run for execution: bumps its attempt counter, which fences every later write of this claim.
   * Null when the run is finished (or gone): the job has nothing to do.
   */
  async claim(id: string, now: Date): Promise<WorkflowRun | null> {
    const rows = rowsOf(
      await this.dataSource.query(
        `UPDATE workflow_runs SET status = 'running', attempt = attempt + 1, started_at = COALESCE(started_at, $2)
          WHERE id = $1 AND status IN ('queued', 'running') RETURNING id`,
        [id, now],
      ),
    );
    if (rows.length === 0) return null;
    return this.findWithSteps(id);
  }

  /** Creates the step rows of a run the first time it is claimed; later claims keep what is there. */
  async ensureSteps(runId: string, steps: { id: string; type: string }[]): Promise<void> {
    if (steps.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO workflow_run_steps (run_id, step_id, position, type, status)
       SELECT $1, s.id, s.position, s.type, 'pending'
         FROM jsonb_to_recordset($2::jsonb) AS s(id text, position int, type text)
       ON CONFLICT DO NOTHING`,
      [runId, JSON.stringify(steps.map((s, position) => ({ id: s.id, position, type: s.type })))],
    );
  }

  /** Writes a step's state, unless a newer claim of the run exists or the run has finished. */
  async recordStep(runId: string, attempt: number, step: StepRecord): Promise<boolean> {
    const raw: unknown = await this.dataSource.query(
      `UPDATE workflow_run_steps s
          SET status = $4,
              attempts = COALESCE($5, s.attempts),
              started_at = CASE WHEN $6::boolean THEN $7 ELSE s.started_at END,
              finished_at = CASE WHEN $8::boolean THEN $9 ELSE s.finished_at END,
              output = CASE WHEN $10::boolean THEN $11::jsonb ELSE s.output END,
              error = CASE WHEN $12::boolean THEN $13::jsonb ELSE s.error END
         FROM workflow_runs r
        WHERE s.run_id = $1 AND s.step_id = $3 AND r.id = s.run_id AND r.attempt = $2 AND r.status = 'running'
        RETURNING s.step_id`,
      [
        runId,
        attempt,
        step.stepId,
        step.status,
        step.attempts ?? null,
        step.startedAt !== undefined,
        step.startedAt ?? null,
        step.finishedAt !== undefined,
        step.finishedAt ?? null,
        step.output !== undefined,
        step.output === undefined ? null : JSON.stringify(step.output ?? null),
        step.error !== undefined,
        step.error ? JSON.stringify(step.error) : null,
      ],
    );
    return rowsOf(raw).length > 0;
  }

  /** When a waiting run (a delay step) is due, fenced by its claim. */
  async setWakeAt(runId: string, attempt: number, wakeAt: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE workflow_runs SET wake_at = $3 WHERE id = $1 AND attempt = $2 AND status = 'running'`,
      [runId, attempt, wakeAt],
    );
  }

  /** Ends a run, fenced by its claim; a terminal status never changes. */
  async finish(
    runId: string,
    attempt: number,
    outcome: { status: 'completed'; output: unknown } | { status: 'failed'; error: RunError },
    now: Date,
  ): Promise<boolean> {
    const raw: unknown = await this.dataSource.query(
      `UPDATE workflow_runs SET status = $3, output = $4::jsonb, error = $5::jsonb, completed_at = $6
        WHERE id = $1 AND attempt = $2 AND status = 'running' RETURNING id`,
      [
        runId,
        attempt,
        outcome.status,
        outcome.status === 'completed' ? JSON.stringify(outcome.output ?? null) : null,
        outcome.status === 'failed' ? JSON.stringify(outcome.error) : null,
        now,
      ],
    );
    return rowsOf(raw).length > 0;
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
    const rows = rowsOf<{ id: string; wake_at: Date | null }>(
      await this.dataSource.query(
        `UPDATE workflow_runs SET checked_at = now()
          WHERE id IN (SELECT id FROM workflow_runs
                        WHERE status IN ('queued', 'running') AND created_at < $1
                          AND (checked_at IS NULL OR checked_at < $2)
                        ORDER BY checked_at NULLS FIRST, id
                        LIMIT $3
                        FOR UPDATE SKIP LOCKED)
          RETURNING id, wake_at`,
        [createdBefore, checkedBefore, limit],
      ),
    );
    return rows.map((r) => ({ id: r.id, wakeAt: r.wake_at }));
  }

  /** Ends a run that cannot be executed (its job failed for good), unless it already finished. */
  async failUnfinished(runId: string, error: RunError, now: Date): Promise<boolean> {
    const rows = rowsOf(
      await this.dataSource.query(
        `UPDATE workflow_runs SET status = 'failed', error = $2::jsonb, completed_at = $3
          WHERE id = $1 AND status IN ('queued', 'running') RETURNING id`,
        [runId, JSON.stringify(error), now],
      ),
    );
    return rows.length > 0;
  }

  async statusOf(runId: string): Promise<RunStatus | null> {
    const rows: { status: RunStatus }[] = await this.dataSource.query(
      'SELECT status FROM workflow_runs WHERE id = $1',
      [runId],
    );
    return rows[0]?.status ?? null;
  }
}
