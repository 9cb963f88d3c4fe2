import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';

import { Batcher } from '../../common/batcher.util.js';
import { RUN_CANCELLED_CHANNEL } from '../../common/change.feed.js';
import { PG_POOL } from '../../database/database.module.js';
import { preparedQuery } from '../../database/prepared-query.helper.js';
import { RUN_COLUMNS, type RunRow } from './run-claims.repository.js';
import { runEndedNotice, runsEndedNotice } from './run-ends.sql.js';
import type { RunError } from './run-status.types.js';

export type FlowKind = 'concurrency' | 'throttle' | 'debounce';

/** A queued run of a flow-controlled workflow, as the admission path reads it. */
export interface PendingFlowRun {
  id: string;
  workflowId: string;
  workflowVersion: number;
  input: unknown;
  createdAt: Date;
  concurrencyKey: string | null;
  throttleKey: string | null;
  debounceKey: string | null;
  debounceUntil: Date | null;
  debounceChainAt: Date | null;
}

const PENDING_COLUMNS = `id, workflow_id, workflow_version, input, created_at, concurrency_key, throttle_key, debounce_key,
  debounce_until, debounce_chain_at`;

type PendingRow = {
  id: string;
  workflow_id: string;
  workflow_version: number;
  input: unknown;
  created_at: Date;
  concurrency_key: string | null;
  throttle_key: string | null;
  debounce_key: string | null;
  debounce_until: Date | null;
  debounce_chain_at: Date | null;
};

const FIND_PENDING = `SELECT ${PENDING_COLUMNS} FROM workflow_runs
  WHERE id = ANY($1::uuid[]) AND flow_control AND status = 'queued'`;

// Functions of migration 1764217350000.
const ADMIT_TO_KEYS = 'SELECT run, decision FROM hookrun_admit_to_keys($1, $2, $3, $4, $5)';
const HAND_OVER_KEYS = 'SELECT item, run FROM hookrun_hand_over_keys($1, $2, $3, $4)';

const BATCHING = { maxInFlight: 2, maxBatch: 50 };

export type KeyDecision = 'admitted' | 'parked' | 'ended';

interface KeyPlaces {
  workflowId: string;
  key: string;
  limit: number;
}

interface KeyAdmission extends KeyPlaces {
  runId: string;
}

// The ended run's key, then the oldest run still waiting for it.
const NEXT_QUEUED_AFTER_END = `
  SELECT q.id FROM workflow_runs e
   CROSS JOIN LATERAL (
     SELECT id FROM workflow_runs q
      WHERE q.workflow_id = e.workflow_id AND q.concurrency_key = e.concurrency_key
        AND q.completed_at IS NULL AND q.status = 'queued'
      ORDER BY q.id LIMIT 1) q
   WHERE e.id = $1 AND e.concurrency_key IS NOT NULL`;

/** The advisory lock of a key, also taken by the admission functions of migration 1764217350000. */
export function keyLockName(workflowId: string, kind: FlowKind, key: string): string {
  return JSON.stringify([workflowId, kind, key]);
}

/** Queries of the admission path; every decision happens under the key locks of one transaction. */
@Injectable()
export class FlowControlRepository {
  private readonly pending: Batcher<string, PendingFlowRun | null>;
  private readonly admissions: Batcher<KeyAdmission, KeyDecision>;
  private readonly handOvers: Batcher<KeyPlaces, string[]>;

  constructor(@Inject(PG_POOL) private readonly pool: Pool) {
    this.pending = new Batcher(async (ids) => {
      const rows = await preparedQuery<PendingRow>(this.pool, FIND_PENDING, [ids]);
      const found = new Map(rows.map((row) => [row.id, toPending(row)]));
      return ids.map((id) => found.get(id) ?? null);
    }, BATCHING);
    this.admissions = new Batcher(
      async (items) => {
        const rows = await preparedQuery<{ run: string; decision: KeyDecision }>(this.pool, ADMIT_TO_KEYS, [
          items.map((a) => a.runId),
          items.map((a) => a.workflowId),
          items.map((a) => a.key),
          items.map((a) => a.limit),
          items.map((a) => keyLockName(a.workflowId, 'concurrency', a.key)),
        ]);
        const decided = new Map(rows.map((row) => [row.run, row.decision]));
        return items.map((a) => decided.get(a.runId) ?? 'ended');
      },
      { ...BATCHING, keyOf: (a) => a.runId },
    );
    this.handOvers = new Batcher(async (items) => {
      const rows = await preparedQuery<{ item: number; run: string }>(this.pool, HAND_OVER_KEYS, [
        items.map((h) => h.workflowId),
        items.map((h) => h.key),
        items.map((h) => h.limit),
        items.map((h) => keyLockName(h.workflowId, 'concurrency', h.key)),
      ]);
      const started = items.map((): string[] => []);
      for (const row of rows) started[row.item - 1].push(row.run);
      return started;
    }, BATCHING);
  }

  findPending(runId: string): Promise<PendingFlowRun | null> {
    return this.pending.submit(runId);
  }

  async nextQueuedAfterEnd(endedRunId: string): Promise<string | null> {
    const rows = await preparedQuery<{ id: string }>(this.pool, NEXT_QUEUED_AFTER_END, [endedRunId]);
    return rows[0]?.id ?? null;
  }

  /**
   * Under the key's lock (hookrun_admit_to_keys): `admitted` leaves the run `running` for the claim to take,
   * `parked` leaves it queued with its key stored, for the hand-over of the key's next end.
   */
  admitToKey(runId: string, workflowId: string, key: string, limit: number): Promise<KeyDecision> {
    return this.admissions.submit({ runId, workflowId, key, limit });
  }

  /** After a run of the key ended: its oldest waiting runs take the free places (hookrun_hand_over_keys). */
  handOver(workflowId: string, key: string, limit: number): Promise<string[]> {
    return this.handOvers.submit({ workflowId, key, limit });
  }

  /** Queued, or started by a hand-over and not yet claimed by a worker. */
  async awaitsPickup(runId: string): Promise<boolean> {
    const rows = await preparedQuery<{ id: string }>(
      this.pool,
      `SELECT id FROM workflow_runs WHERE id = $1 AND (status = 'queued' OR (status = 'running' AND attempt = 0))`,
      [runId],
    );
    return rows.length > 0;
  }

  async failQueued(runId: string, error: RunError): Promise<boolean> {
    const rows = await this.pool.query(
      `WITH ended AS (
         UPDATE workflow_runs SET status = 'failed', error = $2::jsonb, completed_at = clock_timestamp(), updated_at = now()
          WHERE id = $1 AND status = 'queued' RETURNING id),
       notified AS (${runsEndedNotice('ended')})
       SELECT id FROM ended, notified`,
      [runId, JSON.stringify(error)],
    );
    return rows.rows.length > 0;
  }

  async transaction<T>(work: (tx: FlowTransaction) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(new FlowTransaction(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}

export class FlowTransaction {
  /** The runs this transaction cancelled, for the metrics once it has committed. */
  readonly cancelled: { startedAt: Date | null; endedAt: Date }[] = [];

  constructor(private readonly client: PoolClient) {}

  private async sql<T>(text: string, values: unknown[]): Promise<T[]> {
    return (await this.client.query(text, values)).rows as T[];
  }

  /** Sorted, so that two transactions wanting the same keys take them in one order. */
  async lockKeys(workflowId: string, keys: { kind: FlowKind; key: string }[]): Promise<void> {
    const names = [...new Set(keys.map((k) => keyLockName(workflowId, k.kind, k.key)))].sort();
    for (const name of names) await this.sql('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [name]);
  }

  /** The clock every decision of this transaction uses (taken after the locks: later holders see later times). */
  async now(): Promise<Date> {
    return (await this.sql<{ now: Date }>('SELECT clock_timestamp() AS now', []))[0].now;
  }

  async lockRun(runId: string): Promise<PendingFlowRun | null> {
    const rows = await this.sql<PendingRow>(
      `SELECT ${PENDING_COLUMNS} FROM workflow_runs WHERE id = $1 AND status = 'queued' FOR UPDATE`,
      [runId],
    );
    return rows.length > 0 ? toPending(rows[0]) : null;
  }

  async setKey(runId: string, kind: FlowKind, key: string): Promise<void> {
    await this.sql(`UPDATE workflow_runs SET ${kind}_key = $2 WHERE id = $1 AND ${kind}_key IS DISTINCT FROM $2`, [
      runId,
      key,
    ]);
  }

  // --- debounce

  /** The newest run of the key that arrived after this one and still waits out its period. */
  async newerDebouncing(workflowId: string, key: string, runId: string): Promise<string | null> {
    const rows = await this.sql<{ id: string }>(
      `SELECT id FROM workflow_runs
        WHERE workflow_id = $1 AND debounce_key = $2 AND completed_at IS NULL AND id > $3
          AND status = 'queued' AND debounce_until IS NOT NULL
        ORDER BY id DESC LIMIT 1`,
      [workflowId, key, runId],
    );
    return rows[0]?.id ?? null;
  }

  /** Ends the older runs of the key still waiting out their period; returns when their chains began. */
  async supersedeDebouncing(
    workflowId: string,
    key: string,
    newer: string,
    error: RunError,
    now: Date,
  ): Promise<{ id: string; chainAt: Date }[]> {
    const rows = await this.sql<{ id: string; chain_at: Date }>(
      `WITH ended AS (
         UPDATE workflow_runs
            SET status = 'cancelled', error = $4::jsonb, completed_at = $5, superseded_by = $3, debounce_until = NULL,
                wake_at = NULL, updated_at = now()
          WHERE workflow_id = $1 AND debounce_key = $2 AND completed_at IS NULL AND id < $3
            AND status = 'queued' AND debounce_until IS NOT NULL
          RETURNING id, COALESCE(debounce_chain_at, created_at) AS chain_at),
       notified AS (${runsEndedNotice('ended')})
       SELECT id, chain_at FROM ended, notified`,
      [workflowId, key, newer, JSON.stringify(error), now],
    );
    // Queued runs still waiting out their period: none had started.
    for (let i = 0; i < rows.length; i++) this.cancelled.push({ startedAt: null, endedAt: now });
    return rows.map((r) => ({ id: r.id, chainAt: r.chain_at }));
  }

  async startDebounce(runId: string, key: string, chainAt: Date, until: Date): Promise<void> {
    await this.sql(
      `UPDATE workflow_runs SET debounce_key = $2, debounce_chain_at = $3, debounce_until = $4, wake_at = $4 WHERE id = $1`,
      [runId, key, chainAt, until],
    );
  }

  /** The chain a superseded run passes on begins no later than its own. */
  async extendChain(runId: string, chainAt: Date): Promise<void> {
    await this.sql(
      `UPDATE workflow_runs SET debounce_chain_at = LEAST(COALESCE(debounce_chain_at, created_at), $2) WHERE id = $1`,
      [runId, chainAt],
    );
  }

  async endDebounce(runId: string): Promise<void> {
    await this.sql(`UPDATE workflow_runs SET debounce_until = NULL, wake_at = NULL WHERE id = $1`, [runId]);
  }

  // --- concurrency

  async concurrencyState(
    workflowId: string,
    key: string,
    runId: string,
  ): Promise<{ running: number; olderQueued: number }> {
    const rows = await this.sql<{ running: number; older: number }>(
      `SELECT count(*) FILTER (WHERE status = 'running')::int AS running,
              count(*) FILTER (WHERE status = 'queued' AND id < $3)::int AS older
         FROM workflow_runs WHERE workflow_id = $1 AND concurrency_key = $2 AND completed_at IS NULL`,
      [workflowId, key, runId],
    );
    return { running: rows[0].running, olderQueued: rows[0].older };
  }

  async oldestRunning(workflowId: string, key: string, count: number): Promise<string[]> {
    const rows = await this.sql<{ id: string }>(
      `SELECT id FROM workflow_runs
        WHERE workflow_id = $1 AND concurrency_key = $2 AND completed_at IS NULL AND status = 'running'
        ORDER BY id LIMIT $3`,
      [workflowId, key, count],
    );
    return rows.map((r) => r.id);
  }

  async oldestQueuedOther(workflowId: string, key: string, runId: string): Promise<string | null> {
    const rows = await this.sql<{ id: string }>(
      `SELECT id FROM workflow_runs
        WHERE workflow_id = $1 AND concurrency_key = $2 AND completed_at IS NULL AND status = 'queued' AND id <> $3
        ORDER BY id LIMIT 1`,
      [workflowId, key, runId],
    );
    return rows[0]?.id ?? null;
  }

  // --- throttle

  /** Starts of the key in (now − periodMs, now], oldest first; older ones are deleted on the way. */
  async throttleStarts(workflowId: string, key: string, since: Date): Promise<Date[]> {
    await this.sql(
      `DELETE FROM flow_throttle_starts WHERE workflow_id = $1 AND throttle_key = $2 AND started_at <= $3`,
      [workflowId, key, since],
    );
    const rows = await this.sql<{ started_at: Date }>(
      `SELECT started_at FROM flow_throttle_starts WHERE workflow_id = $1 AND throttle_key = $2 ORDER BY started_at`,
      [workflowId, key],
    );
    return rows.map((r) => r.started_at);
  }

  async olderThrottled(workflowId: string, key: string, runId: string): Promise<number> {
    const rows = await this.sql<{ older: number }>(
      `SELECT count(*)::int AS older FROM workflow_runs
        WHERE workflow_id = $1 AND throttle_key = $2 AND completed_at IS NULL AND status = 'queued' AND id < $3`,
      [workflowId, key, runId],
    );
    return rows[0].older;
  }

  async recordStart(workflowId: string, key: string, runId: string, at: Date): Promise<void> {
    await this.sql(
      `INSERT INTO flow_throttle_starts (workflow_id, throttle_key, started_at, run_id) VALUES ($1, $2, $3, $4)`,
      [workflowId, key, at, runId],
    );
  }

  /** The reconciler re-enqueues a run that lost its job with this delay. */
  async setWakeAt(runId: string, at: Date): Promise<void> {
    await this.sql(`UPDATE workflow_runs SET wake_at = $2 WHERE id = $1`, [runId, at]);
  }

  // --- outcomes

  /** The same attempt and started_at rules as a claim. */
  async admit(runId: string, now: Date): Promise<RunRow | null> {
    const rows = await this.sql<RunRow>(
      `UPDATE workflow_runs
          SET status = 'running', attempt = attempt + 1, started_at = COALESCE(started_at, $2), wake_at = NULL,
              debounce_until = NULL, updated_at = now()
        WHERE id = $1 AND status = 'queued'
        RETURNING ${RUN_COLUMNS}`,
      [runId, now],
    );
    return rows[0] ?? null;
  }

  /** Like the API's cancel, notifying at commit so that a worker running it aborts its step. */
  async cancel(runId: string, error: RunError, now: Date, supersededBy: string | null): Promise<boolean> {
    const rows = await this.sql<{ was: string; started_at: Date | null }>(
      `UPDATE workflow_runs r
          SET status = 'cancelled', error = $2::jsonb, completed_at = $3, superseded_by = $4, wake_at = NULL,
              debounce_until = NULL, updated_at = now()
         FROM (SELECT id, status AS was FROM workflow_runs WHERE id = $1 FOR UPDATE) old
        WHERE r.id = old.id AND r.status IN ('queued', 'running')
        RETURNING old.was, r.started_at`,
      [runId, JSON.stringify(error), now, supersededBy],
    );
    if (rows.length === 0) return false;
    this.cancelled.push({ startedAt: rows[0].started_at, endedAt: now });
    await this.sql(
      `UPDATE workflow_run_steps SET status = 'skipped' WHERE run_id = $1 AND status IN ('pending', 'running', 'waiting')`,
      [runId],
    );
    await this.sql(`SELECT ${runEndedNotice('$1')}`, [runId]);
    if (rows[0].was === 'running') await this.sql('SELECT pg_notify($1, $2)', [RUN_CANCELLED_CHANNEL, runId]);
    return true;
  }
}

function toPending(row: PendingRow): PendingFlowRun {
  return {
    id: row.id,
    workflowId: row.workflow_id,
    workflowVersion: row.workflow_version,
    input: row.input,
    createdAt: row.created_at,
    concurrencyKey: row.concurrency_key,
    throttleKey: row.throttle_key,
    debounceKey: row.debounce_key,
    debounceUntil: row.debounce_until,
    debounceChainAt: row.debounce_chain_at,
  };
}
