import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';

import { APP_CONFIG, type AppConfig } from '../../../config/app.config.js';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository.js';

const PRUNE_INTERVAL_MS = 10 * 60_000;
const PRUNE_BATCH_SIZE = 5000;

// In batches, so that no statement holds many locks or runs long.
@Injectable()
export class WebhookDeliveriesPruner implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('WebhookDeliveries');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly repository: WebhookDeliveriesRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.prune().catch(() => undefined), PRUNE_INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  prune(now = new Date()): Promise<number> {
    this.running ??= this.deleteExpired(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async deleteExpired(now: Date): Promise<number> {
    const before = new Date(now.getTime() - this.config.deliveryRetentionHours * 3_600_000);
    let total = 0;
    try {
      for (;;) {
        const deleted = await this.repository.deleteReceivedBefore(before, PRUNE_BATCH_SIZE);
        total += deleted;
        if (deleted < PRUNE_BATCH_SIZE) break;
      }
    } catch (error) {
      this.logger.warn(`Pruning old webhook deliveries failed: ${(error as Error).message}`);
      throw error;
    }
    if (total > 0) this.logger.log(`Pruned ${total} webhook deliveries received before ${before.toISOString()}`);
    return total;
  }
}
