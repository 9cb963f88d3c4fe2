import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';

import { NotificationEventsRepository } from './notification-events.repository.js';

const PRUNE_INTERVAL_MS = 10 * 60_000;
const PRUNE_BATCH_SIZE = 1000;

/** Finished notification events (and their attempts) go once their run is gone: they share the run's retention. */
@Injectable()
export class NotificationsPruner implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(NotificationsPruner.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(private readonly events: NotificationEventsRepository) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.prune().catch(() => undefined), PRUNE_INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  prune(): Promise<number> {
    this.running ??= this.deleteOrphans().finally(() => (this.running = undefined));
    return this.running;
  }

  private async deleteOrphans(): Promise<number> {
    let deleted = 0;
    try {
      for (;;) {
        const batch = await this.events.deleteOrphans(PRUNE_BATCH_SIZE);
        deleted += batch;
        if (batch < PRUNE_BATCH_SIZE) break;
      }
    } catch (error) {
      this.logger.warn(`Pruning notification events failed after ${deleted} deleted: ${(error as Error).message}`);
      throw error;
    }
    if (deleted > 0) this.logger.log(`Pruned ${deleted} notification event(s) of runs past their retention`);
    return deleted;
  }
}
