import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';

import { APP_CONFIG, type AppConfig } from '../../config/app.config.js';
import { WorkflowsService } from '../workflows/workflows.service.js';
import { FIRST_RUN_ID, RunRetentionRepository } from './run-retention.repository.js';

const PRUNE_INTERVAL_MS = 10 * 60_000;
export const RUN_PRUNE_BATCH_SIZE = 1000;
const DAY_MS = 86_400_000;

export interface PruneResult {
  deleted: number;
  /** Another process was pruning: it goes on, this pass stopped. */
  yielded: boolean;
}

/**
 * Deletes finished runs (and their steps) past their workflow's retention, or RUN_RETENTION_DAYS. In batches of
 * one short transaction each, workflow by workflow along the (workflow_id, id) index: no long lock, no statement
 * near the timeout, however large the backlog.
 */
@Injectable()
export class RunsPruner implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RunsPruner.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PruneResult> | undefined;
  private stopping = false;

  constructor(
    private readonly repository: RunRetentionRepository,
    private readonly workflows: WorkflowsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.prune().catch(() => undefined), PRUNE_INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    // A shutdown waits for the batch in flight, not for a whole backlog.
    this.stopping = true;
    await this.running?.catch(() => undefined);
  }

  prune(now = new Date()): Promise<PruneResult> {
    this.running ??= this.deleteExpired(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async deleteExpired(now: Date): Promise<PruneResult> {
    let deleted = 0;
    try {
      for (const workflow of await this.workflows.runRetentions()) {
        const days = workflow.runRetentionDays ?? this.config.runRetentionDays;
        if (days === 0) continue;
        const before = new Date(now.getTime() - days * DAY_MS);
        for (let afterId = FIRST_RUN_ID; ;) {
          const batch = await this.repository.deleteFinishedBefore(workflow.id, before, afterId, RUN_PRUNE_BATCH_SIZE);
          if (batch.deleted === null) return this.done(deleted, true);
          deleted += batch.deleted;
          if (this.stopping) return this.done(deleted, false);
          if (batch.deleted < RUN_PRUNE_BATCH_SIZE || batch.lastId === null) break;
          afterId = batch.lastId;
        }
      }
    } catch (error) {
      this.logger.warn(`Pruning finished runs failed after ${deleted} deleted: ${(error as Error).message}`);
      throw error;
    }
    return this.done(deleted, false);
  }

  private done(deleted: number, yielded: boolean): PruneResult {
    if (deleted > 0) this.logger.log(`Pruned ${deleted} finished run(s) past their retention`);
    return { deleted, yielded };
  }
}
