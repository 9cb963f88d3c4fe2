import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';

import { APP_CONFIG, type AppConfig } from '../../config/app.config.js';
import { BulkActionRunner } from './bulk-action.runner.js';
import { BulkActionsRepository } from './bulk-actions.repository.js';

const TAKEN_PER_PASS = 10;
const MIN_STALL_MS = 1000;

/**
 * Finishes the bulk actions that stopped moving: their job was lost (Redis emptied, an enqueue failed) or the worker
 * on them stopped. PostgreSQL holds what is left to do, so this needs no queue.
 */
@Injectable()
export class BulkActionsReconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(BulkActionsReconciler.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly repository: BulkActionsRepository,
    private readonly runner: BulkActionRunner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.reconcileIntervalMs > 0) this.schedule();
  }

  async onModuleDestroy(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    // The runner ends at its next batch boundary, and with it this pass.
    await this.runner.stop();
    await this.running?.catch(() => undefined);
  }

  /** The number of actions taken up. */
  async reconcileOnce(): Promise<number> {
    const interval = this.config.reconcileIntervalMs || 5000;
    // An action moving on its job makes progress every batch, far more often than this.
    const stalled = await this.repository.takeStalled(
      new Date(Date.now() - Math.max(2 * interval, MIN_STALL_MS)),
      TAKEN_PER_PASS,
    );
    for (const id of stalled) {
      this.logger.warn(`Bulk action ${id} made no progress for a while: taking it up`);
      await this.runner.runToEnd(id);
    }
    return stalled.length;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.running = this.reconcileOnce().catch((error: unknown) => {
        this.logger.warn(`Bulk action sweep failed: ${String(error)}`);
        return 0;
      });
      void this.running.finally(() => {
        if (this.timer !== undefined) this.schedule();
      });
    }, this.config.reconcileIntervalMs);
    this.timer.unref();
  }
}
