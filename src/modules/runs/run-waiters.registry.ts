import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';

import { ChangeFeed } from '../../common/change.feed.js';
import { APP_CONFIG, type AppConfig } from '../../config/app.config.js';
import { RunClaimsRepository } from './run-claims.repository.js';
import { isRunEnded } from './run-status.types.js';

export interface WaitOptions {
  timeoutMs: number;
  /** Aborted when the client goes away: its waiter is released at once. */
  signal?: AbortSignal;
  /**
   * The run may have ended before this call (a replayed delivery's run): its status is read once after the
   * waiter is registered, so that an end between that read and the registration is never missed. Not needed for
   * a run that no worker can have taken yet (registered before it is enqueued).
   */
  check?: boolean;
}

interface Waiter {
  settle(ended: boolean): void;
}

const STATUS_READ_CHUNK = 1000;

/**
 * The requests of this process that wait for a run to end (`?wait=`), by run id. Whichever process ends a run
 * notifies at commit (run-ends.sql.ts) and the change feed hands the ids here: a waiter learns the end as soon
 * as PostgreSQL delivers it, with no polling. While the feed is disconnected ends are missed, so every waited
 * run's status is read again once it is back.
 */
@Injectable()
export class RunWaitersRegistry implements OnModuleDestroy {
  private readonly logger = new Logger(RunWaitersRegistry.name);
  private readonly waiters = new Map<string, Set<Waiter>>();
  private count = 0;
  private maxWaiters: number;
  private readonly stopListening: () => void;

  constructor(
    changes: ChangeFeed,
    private readonly runs: RunClaimsRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    // A worker-only process answers no requests: it does not listen, and is not woken by every finished batch.
    this.maxWaiters = config.role === 'worker' ? 0 : config.waitMaxWaiters;
    this.stopListening =
      this.maxWaiters === 0
        ? () => undefined
        : changes.onRunsEnded({ ended: (ids) => this.ended(ids), reconnected: () => this.recheck() });
  }

  onModuleDestroy(): void {
    this.stopListening();
    this.close();
  }

  /** Waiters held now. */
  get size(): number {
    return this.count;
  }

  /**
   * Registers at once (synchronously) and resolves true when the run ends, false when `timeoutMs` passes or the
   * signal aborts first. Null when the process already holds WAIT_MAX_WAITERS waiters: answer without waiting.
   */
  wait(runId: string, options: WaitOptions): Promise<boolean> | null {
    if (this.count >= this.maxWaiters) return null;
    const { signal } = options;
    if (signal?.aborted || options.timeoutMs <= 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      let settled = false;
      const waiter: Waiter = {
        settle: (ended) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.remove(runId, waiter);
          resolve(ended);
        },
      };
      const onAbort = (): void => waiter.settle(false);
      const timer = setTimeout(onAbort, options.timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      let same = this.waiters.get(runId);
      if (!same) this.waiters.set(runId, (same = new Set()));
      same.add(waiter);
      this.count++;
      if (options.check) this.readEnded([runId]);
    });
  }

  /** This process is stopping: every waiting request answers now (202), and later ones do not wait. */
  close(): void {
    this.maxWaiters = 0;
    for (const same of [...this.waiters.values()]) for (const waiter of [...same]) waiter.settle(false);
  }

  private ended(ids: string): void {
    // Most ends have nobody waiting on them: no work at all then.
    if (this.count === 0) return;
    for (const id of ids.split(',')) this.settleRun(id);
  }

  private recheck(): void {
    const ids = [...this.waiters.keys()];
    for (let i = 0; i < ids.length; i += STATUS_READ_CHUNK) this.readEnded(ids.slice(i, i + STATUS_READ_CHUNK));
  }

  private readEnded(ids: string[]): void {
    this.runs.statusesOf(ids).then(
      (statuses) => {
        for (const [id, status] of statuses) if (isRunEnded(status)) this.settleRun(id);
      },
      // The waiters still end at their timeout, or when the run ends and the feed says so.
      (error: Error) => this.logger.warn(`Could not read the status of waited runs: ${error.message}`),
    );
  }

  private settleRun(id: string): void {
    const same = this.waiters.get(id);
    if (same) for (const waiter of [...same]) waiter.settle(true);
  }

  private remove(runId: string, waiter: Waiter): void {
    const same = this.waiters.get(runId);
    if (!same?.delete(waiter)) return;
    this.count--;
    if (same.size === 0) this.waiters.delete(runId);
  }
}
