import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';

import { ChangeFeed } from '../../common/change.feed.js';
import { newId } from '../../common/ids.util.js';
import { APP_CONFIG, type AppConfig } from '../../config/app.config.js';
import { SecretDecryptionError } from '../secrets/secret.cipher.js';
import { NotificationEventsRepository, type ClaimedNotification } from './notification-events.repository.js';
import { nextAttemptAt } from './notification-retry.policy.js';
import { buildNotificationPayload, type NotificationPayload } from './notification.payload.js';
import { NotificationSender, type SendResult } from './notification.sender.js';
import { NotifyEndpointsService } from './notify-endpoints.service.js';

/** Deliveries one process has in flight at most: a slow receiver holds one slot, not the whole dispatcher. */
const MAX_IN_FLIGHT = 16;
/** With nothing due, the outbox is looked at this often all the same (a notice missed while reconnecting). */
const IDLE_POLL_MS = 30_000;
const ERROR_PAUSE_MS = 5000;
/** A claimed event is not due again before its attempt has timed out, with this much to spare. */
const LEASE_MARGIN_MS = 30_000;

/**
 * Sends the outbox (notification_events) in worker processes. Woken by the trigger's NOTIFY when events are
 * written, by a timer when the next retry is due; several processes share the work through SKIP LOCKED claims.
 * Never in the way of runs: it has its own small set of in-flight requests and only reads and writes its tables.
 */
@Injectable()
export class NotificationDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(NotificationDispatcher.name);
  private readonly sender: NotificationSender;
  private readonly inFlight = new Set<Promise<void>>();
  private draining: Promise<void> | undefined;
  private again = false;
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly events: NotificationEventsRepository,
    private readonly endpoints: NotifyEndpointsService,
    private readonly changes: ChangeFeed,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.sender = new NotificationSender({
      allowedHosts: config.httpStepAllowedHosts,
      protectedPorts: config.httpStepProtectedPorts,
      timeoutMs: config.notifyTimeoutMs,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.endpoints.syncInstance(this.config.notifyInstance, new Date());
    this.unsubscribe = this.changes.onNotificationsDue({ due: () => this.wake(), reconnected: () => this.wake() });
    this.wake();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    clearTimeout(this.timer);
    await this.draining?.catch(() => undefined);
    // Bounded by the attempts' timeout; an attempt cut short is due again once its lease ends.
    await Promise.allSettled([...this.inFlight]);
  }

  /** Looks for due events now, or right after the look under way. */
  wake(): void {
    if (this.stopping) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.again) this.wake();
    });
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        this.again = false;
        const free = MAX_IN_FLIGHT - this.inFlight.size;
        // A finishing delivery wakes the dispatcher again.
        if (free <= 0) return;
        const claimed = await this.events.claimDue(free, this.config.notifyTimeoutMs + LEASE_MARGIN_MS);
        for (const event of claimed) this.track(this.deliver(event));
        if (claimed.length < free || this.stopping) break;
      }
      if (!this.again) await this.scheduleNext();
    } catch (error) {
      this.logger.warn(`Notifications: looking for due events failed: ${(error as Error).message}`);
      this.schedule(ERROR_PAUSE_MS);
    }
  }

  private track(delivery: Promise<void>): void {
    const tracked = delivery
      .catch((error: unknown) => this.logger.warn(`Notifications: an attempt failed to be recorded: ${String(error)}`))
      .finally(() => {
        this.inFlight.delete(tracked);
        this.wake();
      });
    this.inFlight.add(tracked);
  }

  private async scheduleNext(): Promise<void> {
    const due = await this.events.nextDueAt();
    this.schedule(due === null ? IDLE_POLL_MS : Math.min(IDLE_POLL_MS, Math.max(0, due.getTime() - Date.now())));
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), delayMs);
    this.timer.unref();
  }

  private async deliver(event: ClaimedNotification): Promise<void> {
    const body = event.body ?? JSON.stringify(this.payloadOf(event));
    const attemptedAt = new Date();
    let result: SendResult;
    try {
      const secret = this.endpoints.open(event.endpointId, event.secret);
      result = await this.sender.send(event.url, secret, event.id, body, attemptedAt);
    } catch (error) {
      if (!(error instanceof SecretDecryptionError)) throw error;
      // A keyring without the key the secret was sealed with: an operator can put it back within the retry window.
      result = {
        delivered: false,
        statusCode: null,
        errorCode: 'secret_unreadable',
        error: error.message,
        retryable: true,
        durationMs: 0,
      };
    }
    const retryAt =
      result.delivered || !result.retryable
        ? null
        : nextAttemptAt(event.createdAt, event.attempt, new Date(), this.config.notifyRetryBaseMs);
    const status = result.delivered ? 'delivered' : retryAt === null ? 'failed' : 'pending';
    await this.events.recordAttempt(
      event.id,
      newId(),
      {
        attemptedAt,
        durationMs: result.durationMs,
        statusCode: result.statusCode,
        errorCode: result.errorCode,
        error: result.error,
        delivered: result.delivered,
      },
      body,
      { status, nextAttemptAt: retryAt },
    );
    if (status === 'failed') {
      this.logger.warn(
        `Notification ${event.id} (${event.type} of run ${event.runId}) failed after ${event.attempt} attempt(s): ${result.error ?? 'not delivered'}`,
      );
    }
  }

  private payloadOf(event: ClaimedNotification): NotificationPayload {
    return buildNotificationPayload(
      event.type,
      {
        id: event.runId,
        workflowId: event.workflowId,
        workflowName: event.workflowName,
        status: event.run.status,
        error: event.run.error,
        startedAt: event.run.startedAt === null ? null : new Date(event.run.startedAt),
        completedAt: event.run.completedAt === null ? null : new Date(event.run.completedAt),
      },
      event.createdAt,
      this.config.publicBaseUrl,
    );
  }
}
