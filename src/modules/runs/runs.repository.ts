import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { RUN_CANCELLED_CHANNEL } from '../../common/change.feed.js';
import { refusedJsonIsInvalidInput } from '../../common/database-errors.util.js';
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

@Injectable()
export class RunsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Concurrent duplicates wait on the unique key for the winner's commit, so exactly one run exists. */
  async insertUnlessDuplicate(run: NewRun): Promise<InsertedRun> {
    const inserted: { id: string }[] = await this.dataSource
      .query(
        `INSERT INTO workflow_runs
           (id, workflow_id, workflow_version, status, trigger_type, idempotency_key, rerun_of, input)
         VALUES ($1, $2, COALESCE($3::int, (SELECT version FROM workflows WHERE id = $2)), 'queued', $4, $5, $6, $7::jsonb)
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

  async cancel(id: string, now: Date): Promise<boolean> {
    return this.dataSource.transaction(async (tx) => {
      const updated = await tx
        .createQueryBuilder()
        .update(WorkflowRun)
        .set({ status: 'cancelled', completedAt: now })
        .where("id = :id AND status IN ('queued', 'running')", { id })
        .execute();
      if (!updated.affected) return false;
      await tx
        .createQueryBuilder()
        .update(WorkflowRunStep)
        .set({ status: 'skipped' })
        .where("run_id = :id AND status IN ('pending', 'running', 'waiting')", { id })
        .execute();
      // Delivered at commit, to whichever worker executes the run.
      await tx.query('SELECT pg_notify($1, $2)', [RUN_CANCELLED_CHANNEL, id]);
      return true;
    });
  }

  async reopenFailed(id: string): Promise<boolean> {
    return this.dataSource.transaction(async (tx) => {
      const updated = await tx
        .createQueryBuilder()
        .update(WorkflowRun)
        .set({ status: 'queued', error: () => 'NULL', output: () => 'NULL', completedAt: null })
        .where("id = :id AND status = 'failed'", { id })
        .execute();
      if (!updated.affected) return false;
      await tx
        .createQueryBuilder()
        .update(WorkflowRunStep)
        .set({ status: 'pending', error: () => 'NULL', output: () => 'NULL', startedAt: null, finishedAt: null })
        .where("run_id = :id AND status IN ('failed', 'skipped', 'running', 'waiting')", { id })
        .execute();
      return true;
    });
  }
}
