import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

import type { WorkflowDefinition } from '../../engine/index.js';
import { WorkflowVersion } from './workflow-version.entity.js';
import { Workflow } from './workflow.entity.js';

export interface WorkflowChanges {
  name?: string;
  description?: string | null;
  enabled?: boolean;
  runRetentionDays?: number | null;
  /** Set only when the definition really changed: it becomes the next version. */
  definition?: WorkflowDefinition;
}

export interface WorkflowRunRetention {
  id: string;
  runRetentionDays: number | null;
}

export type DefinitionHook = (tx: EntityManager) => Promise<void>;

@Injectable()
export class WorkflowsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** `withDefinition` runs in the same transaction: what must change with the definition (notify endpoints). */
  async insertWithFirstVersion(workflow: Workflow, withDefinition?: DefinitionHook): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      await tx.insert(Workflow, workflow);
      await tx.insert(WorkflowVersion, {
        workflowId: workflow.id,
        version: workflow.version,
        definition: workflow.definition,
        createdAt: workflow.createdAt,
      });
      await withDefinition?.(tx);
    });
  }

  async findLive(id: string): Promise<Workflow | null> {
    return this.liveQuery(this.dataSource.manager).andWhere('w.id = :id', { id }).getOne();
  }

  listLive(limit: number, beforeId: string | null): Promise<Workflow[]> {
    const query = this.liveQuery(this.dataSource.manager)
      .orderBy('w.id', 'DESC')
      .limit(limit + 1);
    if (beforeId) query.andWhere('w.id < :beforeId', { beforeId });
    return query.getMany();
  }

  /** Deleted workflows included: their runs still name them. */
  async findNames(ids: string[]): Promise<{ id: string; name: string }[]> {
    if (ids.length === 0) return [];
    return this.dataSource.manager
      .createQueryBuilder(Workflow, 'w')
      .select(['w.id', 'w.name'])
      .where('w.id IN (:...ids)', { ids })
      .getMany();
  }

  /** Under a row lock; a new definition becomes version n+1 in the same transaction. */
  async update(
    id: string,
    changes: WorkflowChanges,
    now: Date,
    withDefinition?: DefinitionHook,
  ): Promise<Workflow | null> {
    const updated = await this.dataSource.transaction(async (tx) => {
      const current = await tx
        .createQueryBuilder(Workflow, 'w')
        .setLock('pessimistic_write')
        .where('w.id = :id AND w.deleted_at IS NULL', { id })
        .getOne();
      if (!current) return false;
      const patch: Partial<Workflow> = { updatedAt: now };
      if (changes.name !== undefined) patch.name = changes.name;
      if (changes.description !== undefined) patch.description = changes.description;
      if (changes.enabled !== undefined) patch.enabled = changes.enabled;
      if (changes.runRetentionDays !== undefined) patch.runRetentionDays = changes.runRetentionDays;
      if (changes.definition !== undefined) {
        patch.definition = changes.definition;
        patch.version = current.version + 1;
        await tx.insert(WorkflowVersion, {
          workflowId: id,
          version: patch.version,
          definition: changes.definition,
          createdAt: now,
        });
      }
      await tx.update(Workflow, { id }, patch);
      if (changes.definition !== undefined) await withDefinition?.(tx);
      return true;
    });
    return updated ? this.findLive(id) : null;
  }

  /** Live workflows whose current definition has `text` somewhere: few, since few mention secrets. */
  listLiveMentioning(text: string): Promise<Pick<Workflow, 'id' | 'name' | 'definition'>[]> {
    return this.liveQuery(this.dataSource.manager)
      .select(['w.id', 'w.name', 'w.definition'])
      .andWhere(`strpos(CAST(w.definition AS text), :text) > 0`, { text })
      .orderBy('w.id', 'DESC')
      .getMany();
  }

  listRunRetentions(): Promise<WorkflowRunRetention[]> {
    return this.dataSource.manager
      .createQueryBuilder(Workflow, 'w')
      .select(['w.id', 'w.runRetentionDays'])
      .orderBy('w.id')
      .getMany();
  }

  async softDelete(id: string, now: Date): Promise<boolean> {
    const result = await this.dataSource
      .createQueryBuilder()
      .update(Workflow)
      .set({ deletedAt: now, enabled: false, updatedAt: now })
      .where('id = :id AND deleted_at IS NULL', { id })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  findVersion(workflowId: string, version: number): Promise<WorkflowVersion | null> {
    return this.dataSource.manager.findOneBy(WorkflowVersion, { workflowId, version });
  }

  listVersions(workflowId: string, limit: number, beforeVersion: number | null): Promise<WorkflowVersion[]> {
    const query = this.dataSource.manager
      .createQueryBuilder(WorkflowVersion, 'v')
      .where('v.workflow_id = :workflowId', { workflowId })
      .orderBy('v.version', 'DESC')
      .take(limit + 1);
    if (beforeVersion !== null) query.andWhere('v.version < :beforeVersion', { beforeVersion });
    return query.getMany();
  }

  private liveQuery(manager: EntityManager) {
    return manager.createQueryBuilder(Workflow, 'w').where('w.deleted_at IS NULL');
  }
}
