import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';

import { isDatabaseUnavailable } from '../../../common/database-errors.util.js';
import type { WebhookDelivery } from './webhook-delivery.entity.js';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository.js';

const DELIVERY_BATCH_SIZE = 500;
const DELIVERY_FLUSH_INTERVAL_MS = 200;
const MAX_BUFFERED_DELIVERIES = 10_000;
const RETRY_AFTER_UNAVAILABLE_MS = 2000;
const DROP_WARNING_INTERVAL_MS = 10_000;
const SHUTDOWN_FLUSH_TIMEOUT_MS = 5000;

// `record` never waits or throws and rows go in batched INSERTs, so a flood of rejected requests costs nothing; best-effort.
@Injectable()
export class WebhookDeliveriesRecorder implements OnModuleDestroy {
  private readonly logger = new Logger('WebhookDeliveries');
  private buffer: WebhookDelivery[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerDue = 0;
  private writing: Promise<void> | undefined;
  private dropped = 0;
  private lastDropWarning = 0;
  private closing = false;

  constructor(private readonly repository: WebhookDeliveriesRepository) {}

  record(delivery: WebhookDelivery): void {
    if (this.buffer.length >= MAX_BUFFERED_DELIVERIES) {
      this.dropped++;
      this.warnDropped();
      return;
    }
    this.buffer.push(delivery);
    this.schedule(this.buffer.length >= DELIVERY_BATCH_SIZE ? 0 : DELIVERY_FLUSH_INTERVAL_MS);
  }

  flush(): Promise<void> {
    this.writing ??= this.drain().then((retryInMs: number) => {
      this.writing = undefined;
      if (this.buffer.length > 0) this.schedule(retryInMs);
    });
    return this.writing;
  }

  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    clearTimeout(this.timer);
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([
      this.flush(),
      new Promise<void>((resolve) => (timeout = setTimeout(resolve, SHUTDOWN_FLUSH_TIMEOUT_MS))),
    ]);
    clearTimeout(timeout);
    if (this.buffer.length > 0) this.logger.warn(`${this.buffer.length} webhook deliveries were not recorded`);
  }

  private schedule(delayMs: number): void {
    if (this.closing || this.writing) return;
    const due = Date.now() + delayMs;
    if (this.timer !== undefined && this.timerDue <= due) return;
    clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
    this.timer.unref();
  }

  private async drain(): Promise<number> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, DELIVERY_BATCH_SIZE);
      try {
        await this.repository.insertMany(batch);
      } catch (error) {
        if (!isDatabaseUnavailable(error) || this.closing) {
          this.logger.error(`Could not record ${batch.length} webhook deliveries: ${describe(error)}`);
          return DELIVERY_FLUSH_INTERVAL_MS;
        }
        const room = Math.max(0, MAX_BUFFERED_DELIVERIES - this.buffer.length);
        this.buffer.unshift(...batch.slice(0, room));
        if (room < batch.length) {
          this.dropped += batch.length - room;
          this.warnDropped();
        }
        this.logger.warn('Webhook deliveries wait to be recorded: the database is unavailable');
        return RETRY_AFTER_UNAVAILABLE_MS;
      }
    }
    return DELIVERY_FLUSH_INTERVAL_MS;
  }

  private warnDropped(): void {
    const now = Date.now();
    if (now - this.lastDropWarning < DROP_WARNING_INTERVAL_MS) return;
    this.lastDropWarning = now;
    this.logger.warn(
      `The webhook delivery log is behind: ${this.dropped} deliveries were not recorded so far (at most ${MAX_BUFFERED_DELIVERIES} wait)`,
    );
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
