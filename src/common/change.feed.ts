import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import pg from 'pg';

import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { DATABASE_TIMEOUTS } from '../database/database-timeouts.config.js';

export interface Change {
  workflowId: string;
  slug?: string;
}

export interface CancellationListener {
  cancelled(runId: string): void;
  /** The feed was disconnected and is back: cancellations sent in between were missed. */
  reconnected(): void;
}

export interface RunsEndedListener {
  /** `ids`: comma-joined ids of runs that reached a final status (completed, failed or cancelled). */
  ended(ids: string): void;
  /** The feed is (again) connected: ends sent while it was not were missed. */
  reconnected(): void;
}

export interface NotificationsDueListener {
  /** Outbound notifications were written (by the trigger on workflow_runs, see the notifications migration). */
  due(): void;
  /** The feed is (again) connected: notices sent while it was not were missed. */
  reconnected(): void;
}

const CHANNEL = 'hookrun_changes';
export const RUN_CANCELLED_CHANNEL = 'hookrun_run_cancelled';
/** Sent from the SQL that ends runs (see run-ends.notice.ts), read by processes where requests wait on runs. */
export const RUNS_ENDED_CHANNEL = 'hookrun_runs_ended';
/** Sent by the trigger that writes notification events. */
export const NOTIFICATIONS_DUE_CHANNEL = 'hookrun_notifications_due';
const RECONNECT_MS = 1000;

// LISTEN/NOTIFY to every process; while the listening connection is down, caches fall back on their TTL.
@Injectable()
export class ChangeFeed implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ChangeFeed.name);
  private readonly listeners = new Set<(change: Change) => void>();
  private readonly cancellationListeners = new Set<CancellationListener>();
  private readonly runsEndedListeners = new Set<RunsEndedListener>();
  private readonly notificationsDueListeners = new Set<NotificationsDueListener>();
  private connectedBefore = false;
  private listener: pg.Client | undefined;
  private notifier: pg.Pool | undefined;
  private closed = false;
  private reconnecting = false;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async onApplicationBootstrap(): Promise<void> {
    this.notifier = new pg.Pool({
      connectionString: this.config.databaseUrl,
      max: 2,
      application_name: 'hookrun-notify',
      ...DATABASE_TIMEOUTS,
    });
    this.notifier.on('error', (error) => this.logger.warn(`Notify connection failed: ${error.message}`));
    await this.listen();
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    await this.listener?.end().catch(() => undefined);
    await this.notifier?.end().catch(() => undefined);
  }

  publish(change: Change): void {
    this.emit(change);
    this.notifier?.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify(change)]).catch((error: Error) => {
      this.logger.warn(`Could not tell other processes about a change: ${error.message}`);
    });
  }

  subscribe(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onRunCancelled(listener: CancellationListener): () => void {
    this.cancellationListeners.add(listener);
    return () => this.cancellationListeners.delete(listener);
  }

  /** Only processes with such a listener LISTEN for ends: the others are not woken by every finished batch. */
  onRunsEnded(listener: RunsEndedListener): () => void {
    this.runsEndedListeners.add(listener);
    if (this.runsEndedListeners.size === 1 && this.listener) {
      const client = this.listener;
      client.query(`LISTEN ${RUNS_ENDED_CHANNEL}`).then(
        () => listener.reconnected(),
        (error: Error) => this.logger.warn(`Could not listen for run ends: ${error.message}`),
      );
    }
    return () => this.runsEndedListeners.delete(listener);
  }

  /** Only worker processes, whose dispatcher sends notifications, LISTEN for these. */
  onNotificationsDue(listener: NotificationsDueListener): () => void {
    this.notificationsDueListeners.add(listener);
    if (this.notificationsDueListeners.size === 1 && this.listener) {
      this.listener.query(`LISTEN ${NOTIFICATIONS_DUE_CHANNEL}`).then(
        () => listener.reconnected(),
        (error: Error) => this.logger.warn(`Could not listen for notifications: ${error.message}`),
      );
    }
    return () => this.notificationsDueListeners.delete(listener);
  }

  private emit(change: Change): void {
    for (const listener of this.listeners) listener(change);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.config.databaseUrl,
      application_name: 'hookrun-listen',
      ...DATABASE_TIMEOUTS,
    });
    client.on('notification', (message) => {
      if (message.channel === RUNS_ENDED_CHANNEL) {
        for (const listener of this.runsEndedListeners) if (message.payload) listener.ended(message.payload);
        return;
      }
      if (message.channel === NOTIFICATIONS_DUE_CHANNEL) {
        for (const listener of this.notificationsDueListeners) listener.due();
        return;
      }
      if (message.channel === RUN_CANCELLED_CHANNEL) {
        for (const listener of this.cancellationListeners) if (message.payload) listener.cancelled(message.payload);
        return;
      }
      const change = parseChange(message.payload);
      if (change) this.emit(change);
    });
    client.on('error', (error) => {
      this.logger.warn(`Change listener lost its connection: ${error.message}`);
      this.reconnect(client);
    });
    client.on('end', () => this.reconnect(client));
    try {
      await client.connect();
      const endsToo = this.runsEndedListeners.size > 0 ? `; LISTEN ${RUNS_ENDED_CHANNEL}` : '';
      const dueToo = this.notificationsDueListeners.size > 0 ? `; LISTEN ${NOTIFICATIONS_DUE_CHANNEL}` : '';
      await client.query(`LISTEN ${CHANNEL}; LISTEN ${RUN_CANCELLED_CHANNEL}${endsToo}${dueToo}`);
      this.listener = client;
      if (this.connectedBefore) for (const listener of this.cancellationListeners) listener.reconnected();
      // Every time, the first included: a request may have begun to wait while the first connection failed.
      for (const listener of this.runsEndedListeners) listener.reconnected();
      for (const listener of this.notificationsDueListeners) listener.reconnected();
      this.connectedBefore = true;
    } catch (error) {
      this.logger.warn(`Change listener could not connect: ${(error as Error).message}`);
      this.reconnect(client);
    }
  }

  private reconnect(client: pg.Client): void {
    client.removeAllListeners();
    void client.end().catch(() => undefined);
    if (this.listener === client) this.listener = undefined;
    if (this.closed || this.reconnecting) return;
    this.reconnecting = true;
    setTimeout(() => {
      this.reconnecting = false;
      if (!this.closed) void this.listen();
    }, RECONNECT_MS).unref();
  }
}

function parseChange(payload: string | undefined): Change | null {
  try {
    const value = JSON.parse(payload ?? '') as Partial<Change>;
    return typeof value.workflowId === 'string'
      ? { workflowId: value.workflowId, ...(typeof value.slug === 'string' ? { slug: value.slug } : {}) }
      : null;
  } catch {
    return null;
  }
}
