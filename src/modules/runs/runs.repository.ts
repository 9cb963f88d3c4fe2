import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

import { RUN_CANCELLED_CHANNEL } from '../../common/change.feed.js';
import { refusedJsonIsInvalidInput } from '../../common/database-errors.util.js';
import { firstIdAt } from '../../common/ids.util.js';
import { runsEndedNotice } from './run-ends.sql.js';
import type { RunStatus, TriggerType } from './run-status.types.js';
import { WorkflowRunStep } from './workflow-run-step.entity.js';
import { WorkflowRun } from './workflow-run.entity.js';

export interface NewRun {
  id: string;
  workflowId: string;
  /** Null: the workflow's current version, read in the insert itself. */
  workflowVersion: number | null;
  triggerType: TriggerType;
  idempotencyKey: string | null;
  rerunOf: string | null;
  inputJson: string;
}

export interface RunDelivery {
  requestId: string | null;
  bodyBytes: number;
  bodySha256: string;
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
  triggerType?: TriggerType;
  createdFrom?: Date;
  createdTo?: Date;
}

export interface RunChange {
  id: string;
  /** ISO 8601 with microseconds, as stored: a millisecond Date would make the keyset repeat rows forever. */
  updatedAt: string;
}

export type RunStatusCounts = Record<RunStatus, number>;

// A run's id is minted (UUIDv7, app clock) at most a request timeout before its insert sets created_at (database
// clock): time bounds become id bounds this much wider, so that the primary key or a (…, id) index can range-scan.
const ID_CLOCK_SLACK_MS = 10_000;

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface WebhookRunDelivery {
  id: string;
  triggerId: string;
  workflowId: string;
  receivedAt: Date;
  webhookId: string | null;
  requestId: string | null;
  bodyBytes: number | null;
  bodySha256: string | null;
}

export interface WebhookRunDeliveryFilter {
  triggerId: string;
  workflowId: string;
  fromId: string;
  beforeId: string | null;
  limit: number;
}

export interface CancelledRun {
  id: string;
  workflowId: string;
  startedAt: Date | null;
}

@Injectable()
export class RunsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Concurrent duplicates wait on the unique key for the winner's commit, so exactly one run exists. */
  async insertUnlessDuplicate(run: NewRun): Promise<InsertedRun> {
    const inserted: { id: string }[] = await this.dataSource
      .query(
        `INSERT INTO workflow_runs
           (id, workflow_id, workflow_version, status, trigger_type, idempotency_key, rerun_of, input, flow_control)
         VALUES ($1, $2, COALESCE($3::int, (SELECT version FROM workflows WHERE id = $2)), 'queued', $4, $5, $6, $7::jsonb,
                 COALESCE((SELECT flow_control FROM workflow_versions
                            WHERE workflow_id = $2 AND version = COALESCE($3::int, (SELECT version FROM workflows WHERE id = $2))),
                          false))
         ON CONFLICT DO NOTHING
         RETURNING id`,
        [run.id, run.workflowId, run.workflowVersion, run.triggerType, run.idempotencyKey, run.rerunOf, run.inputJson],
      )
      .catch(refusedJsonIsInvalidInput);
    if (inserted.length > 0) return { id: run.id, workflowId: run.workflowId, status: 'queued', created: true };
    const existing = await this.dataSource.manager.findOne(WorkflowRun, {
      select: { id: true, workflowId: true, status: true },
      where: { workflowId: run.workflowId, idempotencyKey: run.idempotencyKey ?? undefined },
    });
    if (!existing || run.idempotencyKey === null) {
      throw new Error(`Run insert conflicted on an unexpected key (run ${run.id})`);
    }
    return { id: existing.id, workflowId: existing.workflowId, status: existing.status, created: false };
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

  async list(filter: RunFilter, limit: number, beforeId: string | null): Promise<WorkflowRun[]> {
    const query = this.filtered(filter)
      .orderBy('r.id', 'DESC')
      .limit(limit + 1);
    if (beforeId) query.andWhere('r.id < :beforeId', { beforeId });
    return this.withSteps(await query.getMany());
  }

  async findWithStepsByIds(ids: string[]): Promise<WorkflowRun[]> {
    if (ids.length === 0) return [];
    const runs = await this.dataSource.manager
      .createQueryBuilder(WorkflowRun, 'r')
      .where('r.id IN (:...ids)', { ids })
      .getMany();
    return this.withSteps(runs);
  }

  /**
   * Runs created or changed at or after `since`, oldest change first, after the (updatedAt, id) keyset `after`.
   * Each arm has its own index: new runs the primary key, finished ones completed_at, unfinished ones the partial
   * index on unfinished runs (updated_at itself is unindexed so that claims stay HOT updates).
   */
  async listChanges(filter: RunFilter, since: Date, after: RunChange | null, limit: number): Promise<RunChange[]> {
    const newFrom = firstIdAt(new Date(since.getTime() - ID_CLOCK_SLACK_MS));
    const arms = [
      { where: 'r.id >= :newFrom', params: { newFrom } },
      { where: 'r.id < :newFrom AND r.completed_at >= :since', params: { newFrom, since } },
      { where: 'r.id < :newFrom AND r.completed_at IS NULL', params: { newFrom } },
    ];
    const found: RunChange[] = [];
    for (const arm of arms) {
      const query = this.filtered(filter)
        .select('r.id', 'id')
        .addSelect(`to_char(r.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`, 'updatedAt')
        .andWhere(arm.where, arm.params)
        .andWhere('r.updated_at >= :since', { since })
        .orderBy('r.updated_at', 'ASC')
        .addOrderBy('r.id', 'ASC')
        .limit(limit + 1);
      if (after) {
        query.andWhere('(r.updated_at, r.id) > (:afterAt::timestamptz, :afterId::uuid)', {
          afterAt: after.updatedAt,
          afterId: after.id,
        });
      }
      found.push(...(await query.getRawMany<RunChange>()));
    }
    found.sort((a, b) => compare(a.updatedAt, b.updatedAt) || compare(a.id, b.id));
    return found.slice(0, limit + 1);
  }

  async databaseNow(): Promise<Date> {
    const [{ now }] = await this.dataSource.query<{ now: Date }[]>('SELECT now() AS now');
    return now;
  }

  /** Counts of the runs created in [from, to) of each workflow, by status. */
  async countByStatus(workflowIds: string[], from: Date, to: Date): Promise<Map<string, RunStatusCounts>> {
    const rows = await this.dataSource.query<{ workflow_id: string; status: RunStatus; count: string }[]>(
      `SELECT workflow_id, status, count(*) AS count
         FROM workflow_runs
        WHERE workflow_id = ANY($1::uuid[]) AND id >= $2 AND id < $3 AND created_at >= $4 AND created_at < $5
        GROUP BY workflow_id, status`,
      [
        workflowIds,
        firstIdAt(new Date(from.getTime() - ID_CLOCK_SLACK_MS)),
        firstIdAt(new Date(to.getTime() + ID_CLOCK_SLACK_MS)),
        from,
        to,
      ],
    );
    const counts = new Map<string, RunStatusCounts>();
    for (const id of workflowIds) counts.set(id, { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 });
    for (const row of rows) (counts.get(row.workflow_id) as RunStatusCounts)[row.status] = Number(row.count);
    return counts;
  }

  private filtered(filter: RunFilter) {
    const query = this.dataSource.manager.createQueryBuilder(WorkflowRun, 'r');
    if (filter.workflowId) query.andWhere('r.workflow_id = :workflowId', { workflowId: filter.workflowId });
    if (filter.status) {
      query.andWhere('r.status = :status', { status: filter.status });
      // Implied by the CHECK on completed_at; lets the planner use the unfinished or completed_at partial indexes.
      query.andWhere(
        filter.status === 'queued' || filter.status === 'running'
          ? 'r.completed_at IS NULL'
          : 'r.completed_at IS NOT NULL',
      );
    }
    if (filter.triggerType) {
      query.andWhere('r.trigger_type = :triggerType', { triggerType: filter.triggerType });
      if (filter.triggerType !== 'webhook') query.andWhere("r.trigger_type <> 'webhook'");
    }
    if (filter.createdFrom) {
      query.andWhere('r.created_at >= :createdFrom AND r.id >= :idFrom', {
        createdFrom: filter.createdFrom,
        idFrom: firstIdAt(new Date(filter.createdFrom.getTime() - ID_CLOCK_SLACK_MS)),
      });
    }
    if (filter.createdTo) {
      query.andWhere('r.created_at < :createdTo AND r.id < :idTo', {
        createdTo: filter.createdTo,
        idTo: firstIdAt(new Date(filter.createdTo.getTime() + ID_CLOCK_SLACK_MS)),
      });
    }
    return query;
  }

  private async withSteps(runs: WorkflowRun[]): Promise<WorkflowRun[]> {
    if (runs.length === 0) return runs;
    const steps = await this.dataSource.manager
      .createQueryBuilder(WorkflowRunStep, 's')
      .where('s.run_id IN (:...ids)', { ids: runs.map((r) => r.id) })
      .orderBy('s.position', 'ASC')
      .getMany();
    for (const run of runs) run.steps = steps.filter((s) => s.runId === run.id);
    return runs;
  }

  /** Runs from before the delivery log was kept in runs have no body hash and are left out. */
  async listWebhookDeliveries(filter: WebhookRunDeliveryFilter): Promise<WebhookRunDelivery[]> {
    const query = this.dataSource.manager
      .createQueryBuilder(WorkflowRun, 'r')
      .select(['r.id', 'r.triggerId', 'r.workflowId', 'r.createdAt', 'r.webhookId'])
      .addSelect(['r.requestId', 'r.bodyBytes', 'r.bodySha256'])
      .where('r.workflow_id = :workflowId AND r.trigger_id = :triggerId AND r.body_sha256 IS NOT NULL', filter)
      .andWhere('r.id >= :fromId', { fromId: filter.fromId })
      .orderBy('r.id', 'DESC')
      .limit(filter.limit);
    if (filter.beforeId) query.andWhere('r.id < :beforeId', { beforeId: filter.beforeId });
    const runs = await query.getMany();
    return runs.map((r) => ({
      id: r.id,
      triggerId: r.triggerId as string,
      workflowId: r.workflowId,
      receivedAt: r.createdAt,
      webhookId: r.webhookId,
      requestId: r.requestId ?? null,
      bodyBytes: r.bodyBytes ?? null,
      bodySha256: r.bodySha256 ?? null,
    }));
  }

  /**
   * Cancels those of `ids` that have not finished, in one statement, and tells their executors and the requests waiting on them at commit. With
   * `tx`, inside that transaction. Returns the runs cancelled.
   */
  async cancelUnfinished(
    ids: string[],
    now: Date,
    tx: EntityManager = this.dataSource.manager,
  ): Promise<CancelledRun[]> {
    if (ids.length === 0) return [];
    // Rows locked in id order, as claims and finishes lock them.
    const rows: { id: string; workflow_id: string; started_at: Date | null }[] = await tx.query(
      `WITH locked AS (
              SELECT id FROM workflow_runs
               WHERE id = ANY($1::uuid[]) AND status IN ('queued', 'running')
               ORDER BY id FOR UPDATE),
            cancelled AS (
              UPDATE workflow_runs r SET status = 'cancelled', completed_at = $2, updated_at = now()
                FROM locked WHERE r.id = locked.id
              RETURNING r.id, r.workflow_id, r.started_at),
            skipped AS (
              UPDATE workflow_run_steps s SET status = 'skipped'
                FROM cancelled c WHERE s.run_id = c.id AND s.status IN ('pending', 'running', 'waiting')),
            notified AS (${runsEndedNotice('cancelled')})
       SELECT id, workflow_id, started_at, pg_notify($3, id::text) FROM cancelled, notified`,
      [ids, now, RUN_CANCELLED_CHANNEL],
    );
    return rows.map((row) => ({ id: row.id, workflowId: row.workflow_id, startedAt: row.started_at }));
  }

  /** Puts those of `ids` that failed back in the queue, from their failed step. Returns the ids reopened. */
  async reopenFailed(ids: string[], tx: EntityManager = this.dataSource.manager): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows: { id: string }[] = await tx.query(
      `WITH locked AS (
              SELECT id FROM workflow_runs WHERE id = ANY($1::uuid[]) AND status = 'failed' ORDER BY id FOR UPDATE),
            reopened AS (
              UPDATE workflow_runs r
                 SET status = 'queued', error = NULL, output = NULL, completed_at = NULL, updated_at = now()
                FROM locked WHERE r.id = locked.id
              RETURNING r.id),
            steps AS (
              UPDATE workflow_run_steps s
                 SET status = 'pending', error = NULL, output = NULL, started_at = NULL, finished_at = NULL
                FROM reopened o WHERE s.run_id = o.id AND s.status IN ('failed', 'skipped', 'running', 'waiting'))
       SELECT id FROM reopened`,
      [ids],
    );
    return rows.map((row) => row.id);
  }

  /** New queued runs, each with the input and workflow version of the run it re-runs. */
  /**
   * Returns the runs re-run. The originals are locked against deletion (FOR KEY SHARE): one that retention deletes
   * meanwhile is left out once its delete commits, rather than failing the whole insert on its foreign key.
   */
  async insertReruns(
    reruns: { id: string; rerunOf: string }[],
    tx: EntityManager = this.dataSource.manager,
  ): Promise<Set<string>> {
    if (reruns.length === 0) return new Set();
    const rows: { rerun_of: string }[] = await tx.query(
      `INSERT INTO workflow_runs (id, workflow_id, workflow_version, status, trigger_type, rerun_of, input)
       SELECT n.id, o.workflow_id, o.workflow_version, 'queued', 'rerun', o.id, COALESCE(o.input, 'null'::jsonb)
         FROM unnest($1::uuid[], $2::uuid[]) AS n(id, rerun_of)
         JOIN workflow_runs o ON o.id = n.rerun_of
          FOR KEY SHARE OF o
       RETURNING rerun_of`,
      [reruns.map((r) => r.id), reruns.map((r) => r.rerunOf)],
    );
    return new Set(rows.map((row) => row.rerun_of));
  }

  async findWorkflowsOf(ids: string[], tx: EntityManager = this.dataSource.manager): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows: { id: string; workflow_id: string }[] = await tx.query(
      'SELECT id, workflow_id FROM workflow_runs WHERE id = ANY($1::uuid[])',
      [ids],
    );
    return new Map(rows.map((row) => [row.id, row.workflow_id]));
  }

  /** The ids of the runs that match, newest first: SQL and parameters, for an `INSERT ... SELECT` of their own. */
  matchingIdsQuery(filter: RunFilter, limit: number): [string, unknown[]] {
    return this.filtered(filter).select('r.id', 'id').orderBy('r.id', 'DESC').limit(limit).getQueryAndParameters();
  }
}
