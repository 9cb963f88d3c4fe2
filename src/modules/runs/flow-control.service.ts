import { Injectable, Logger } from '@nestjs/common';

import { about, type LogFields } from '../../common/log.context.js';

import {
  debounceFireAt,
  decideConcurrency,
  decideThrottle,
  type DebounceControl,
  type WorkflowDefinition,
} from '../../engine/index.js';
import { MetricsRegistry } from '../metrics/metrics.registry.js';
import {
  FlowControlRepository,
  type FlowKind,
  type FlowTransaction,
  type PendingFlowRun,
} from './flow-control.repository.js';
import { RunClaimsRepository, type RunRow } from './run-claims.repository.js';
import { RunsProducer } from './runs.producer.js';
import type { WorkflowRun } from './workflow-run.entity.js';

/** The keys of one run, computed once from its input (`''` when the control has no `key`). */
export type FlowKeys = Partial<Record<FlowKind, string>>;

export type Admission =
  | { kind: 'admitted'; run: WorkflowRun }
  /** Still queued; its job sleeps until then (debounce period, throttle window). */
  | { kind: 'waiting'; until: Date }
  /** Still queued for a concurrency slot; its job ends and a run of the key that ends wakes it. */
  | { kind: 'parked' }
  /** Already admitted, ended or cancelled (skip, debounced). */
  | { kind: 'ended' };

type Decided = { kind: 'admitted'; run: RunRow; wake: string | null } | Exclude<Admission, { kind: 'admitted' }>;

// A parked job still finishing swallows a wake with its id (BullMQ keeps one job per id): look again shortly.
const WAKE_RETRY_MS = 100;
const WAKE_RETRIES = 10;

/**
 * Admission of runs of flow-controlled workflows (concurrency, throttle, debounce). PostgreSQL decides: each
 * decision is made under advisory locks on the run's keys in one transaction, so limits hold across any number
 * of workers; queue jobs only wake runs up, and a lost wake is repaired by the reconciler re-enqueueing the run.
 */
@Injectable()
export class FlowControlService {
  private readonly logger = new Logger(FlowControlService.name);

  constructor(
    private readonly flow: FlowControlRepository,
    private readonly claims: RunClaimsRepository,
    private readonly producer: RunsProducer,
    private readonly metrics: MetricsRegistry,
  ) {}

  findPending(runId: string): Promise<PendingFlowRun | null> {
    return this.flow.findPending(runId);
  }

  /** False when the run had ended meanwhile. */
  async failKey(run: PendingFlowRun, message: string): Promise<boolean> {
    const failed = await this.flow.failQueued(run.id, { code: 'flow_key_failed', message, stepId: null });
    this.logger.warn(about(fieldsOf(run), `Run ${run.id} failed: ${message}`));
    return failed;
  }

  async admit(pending: PendingFlowRun, definition: WorkflowDefinition, keys: FlowKeys): Promise<Admission> {
    // The common case, a concurrency key alone in "queue" mode: one call decides, and a claim takes the run.
    const { concurrency } = definition;
    if (
      concurrency &&
      keys.concurrency !== undefined &&
      (concurrency.onLimit ?? 'queue') === 'queue' &&
      !definition.throttle &&
      !definition.debounce
    ) {
      const decision = await this.flow.admitToKey(pending.id, pending.workflowId, keys.concurrency, concurrency.limit);
      if (decision !== 'admitted') return { kind: decision };
      const run = await this.claims.claim(pending.id, new Date());
      return run ? { kind: 'admitted', run } : { kind: 'ended' };
    }
    const locks = (Object.entries(keys) as [FlowKind, string][]).map(([kind, key]) => ({ kind, key }));
    let cancelled: FlowTransaction['cancelled'] = [];
    const decided = await this.flow.transaction(async (tx): Promise<Decided> => {
      cancelled = tx.cancelled;
      await tx.lockKeys(pending.workflowId, locks);
      const run = await tx.lockRun(pending.id);
      if (!run) return { kind: 'ended' };
      const now = await tx.now();
      if (definition.debounce && keys.debounce !== undefined) {
        const held = await this.debounce(tx, run, definition.debounce, keys.debounce, now);
        if (held) return held;
      }
      let cancelOldest = 0;
      let running = 0;
      if (concurrency && keys.concurrency !== undefined) {
        const key = keys.concurrency;
        await tx.setKey(run.id, 'concurrency', key);
        const state = await tx.concurrencyState(run.workflowId, key, run.id);
        const decision = decideConcurrency(concurrency, state);
        running = state.running;
        switch (decision.kind) {
          case 'queue':
            this.logger.debug(
              about(
                fieldsOf(run),
                `Run ${run.id} waits: concurrency key "${key}" has ${state.running} running, ${state.olderQueued} ahead`,
              ),
            );
            return { kind: 'parked' };
          case 'skip':
            await tx.cancel(
              run.id,
              {
                code: 'concurrency_limit',
                message: `Concurrency key "${key}" already had ${state.running + state.olderQueued} run(s) running or ahead (limit ${concurrency.limit}, onLimit "skip")`,
                stepId: null,
              },
              now,
              null,
            );
            this.logger.log(
              about(
                fieldsOf(run),
                `Run ${run.id} skipped: concurrency key "${key}" is at its limit of ${concurrency.limit}`,
              ),
            );
            return { kind: 'ended' };
          case 'cancel-running':
            cancelOldest = decision.cancel;
            break;
          case 'admit':
            break;
        }
      }
      // Read again after the counts: a run that ended while this transaction counted ended before this start.
      const startedAt = await tx.now();
      if (definition.throttle && keys.throttle !== undefined) {
        const { periodMs } = definition.throttle;
        const key = keys.throttle;
        await tx.setKey(run.id, 'throttle', key);
        const starts = await tx.throttleStarts(run.workflowId, key, new Date(now.getTime() - periodMs));
        const olderQueued = await tx.olderThrottled(run.workflowId, key, run.id);
        const decision = decideThrottle(definition.throttle, { now, starts, olderQueued });
        if (decision.kind === 'wait') {
          await tx.setWakeAt(run.id, decision.until);
          this.logger.debug(
            about(
              fieldsOf(run),
              `Run ${run.id} waits until ${decision.until.toISOString()}: throttle key "${key}" is full`,
            ),
          );
          return { kind: 'waiting', until: decision.until };
        }
        await tx.recordStart(run.workflowId, key, run.id, startedAt);
      }
      if (cancelOldest > 0 && keys.concurrency !== undefined) {
        const key = keys.concurrency;
        for (const oldest of await tx.oldestRunning(run.workflowId, key, cancelOldest)) {
          const message = `Cancelled for the newer run ${run.id} (concurrency key "${key}", onLimit "cancel-running")`;
          if (await tx.cancel(oldest, { code: 'superseded', message, stepId: null }, now, run.id)) running--;
          this.logger.log(
            about(
              { runId: oldest, workflowId: run.workflowId },
              `Run ${oldest} superseded by run ${run.id} (concurrency key "${key}")`,
            ),
          );
        }
      }
      const admitted = await tx.admit(run.id, startedAt);
      if (!admitted) return { kind: 'ended' };
      // Room left (a limit above 1): the next waiting run of the key need not wait for an end.
      const wake =
        concurrency && keys.concurrency !== undefined && running + 1 < concurrency.limit
          ? await tx.oldestQueuedOther(run.workflowId, keys.concurrency, run.id)
          : null;
      return { kind: 'admitted', run: admitted, wake };
    });
    // Committed: the runs it cancelled (skipped, superseded, debounced) have ended.
    for (const end of cancelled) this.metrics.runEnded(pending.workflowId, 'cancelled', end.startedAt, end.endedAt);
    if (decided.kind !== 'admitted') return decided;
    if (decided.wake) this.wake(decided.wake);
    return { kind: 'admitted', run: await this.claims.withSteps(decided.run) };
  }

  /** Null when the run goes on to the other controls (its period is over). */
  private async debounce(
    tx: FlowTransaction,
    run: PendingFlowRun,
    control: DebounceControl,
    key: string,
    now: Date,
  ): Promise<Decided | null> {
    if (run.debounceKey === null) {
      // Its job ran late, after a newer run's: that one is the chain's latest, this one is superseded at once.
      const newer = await tx.newerDebouncing(run.workflowId, key, run.id);
      if (newer) {
        await tx.extendChain(newer, run.createdAt);
        await tx.cancel(run.id, debounced(newer, key), now, newer);
        this.logger.log(about(fieldsOf(run), `Run ${run.id} debounced by the newer run ${newer} (key "${key}")`));
        return { kind: 'ended' };
      }
      const superseded = await tx.supersedeDebouncing(run.workflowId, key, run.id, debounced(run.id, key), now);
      for (const old of superseded)
        this.logger.log(
          about(
            { runId: old.id, workflowId: run.workflowId },
            `Run ${old.id} debounced by the newer run ${run.id} (key "${key}")`,
          ),
        );
      const chainAt = new Date(Math.min(run.createdAt.getTime(), ...superseded.map((s) => s.chainAt.getTime())));
      const until = debounceFireAt(control, run.createdAt, chainAt);
      await tx.startDebounce(run.id, key, chainAt, until);
      if (until > now) return { kind: 'waiting', until };
      await tx.endDebounce(run.id);
      return null;
    }
    if (run.debounceUntil === null) return null;
    if (run.debounceUntil > now) return { kind: 'waiting', until: run.debounceUntil };
    await tx.endDebounce(run.id);
    return null;
  }

  /**
   * After a run ended: the oldest waiting runs of its concurrency key take the free places (started here, under the
   * key's lock) and are enqueued. Runs that a throttle also holds back are woken to be admitted as any other.
   */
  async handOverAfterEnd(run: WorkflowRun, definition: WorkflowDefinition): Promise<void> {
    const { concurrency } = definition;
    if (!concurrency) return;
    if (definition.throttle || run.concurrencyKey === null || run.concurrencyKey === undefined)
      return this.wakeAfterEnd(run.id);
    try {
      for (const next of await this.flow.handOver(run.workflowId, run.concurrencyKey, concurrency.limit)) {
        this.wake(next);
      }
    } catch (error) {
      // The reconciler re-enqueues the waiting run later.
      this.logger.warn(about(fieldsOf(run), `Could not start the run waiting after run ${run.id}: ${String(error)}`));
    }
  }

  /** After a run of a concurrency key ended: its oldest waiting run is enqueued (nothing for runs without one). */
  async wakeAfterEnd(endedRunId: string): Promise<void> {
    try {
      const next = await this.flow.nextQueuedAfterEnd(endedRunId);
      if (next) this.wake(next);
    } catch (error) {
      // The reconciler re-enqueues the waiting run later.
      this.logger.warn(
        about({ runId: endedRunId }, `Could not wake the run waiting after run ${endedRunId}: ${String(error)}`),
      );
    }
  }

  // Ahead of the queue's backlog: a slot is free now. Enqueued again while its last job may still be finishing.
  private wake(runId: string, tries = 0): void {
    void (async () => {
      if (tries > 0 && !(await this.flow.awaitsPickup(runId))) return;
      await this.producer.enqueue(runId, 0, true);
      if (tries < WAKE_RETRIES && (await this.producer.stateOf(runId)) === 'active') {
        setTimeout(() => this.wake(runId, tries + 1), WAKE_RETRY_MS).unref();
      }
    })().catch((error: unknown) => this.logger.warn(about({ runId }, `Could not wake run ${runId}: ${String(error)}`)));
  }
}

function debounced(newer: string, key: string) {
  return {
    code: 'debounced',
    message: `Superseded by the newer run ${newer}, which arrived within the debounce period (key "${key}")`,
    stepId: null,
  };
}

function fieldsOf(run: { id: string; workflowId: string }): LogFields {
  return { runId: run.id, workflowId: run.workflowId };
}
