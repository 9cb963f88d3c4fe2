import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

import { RunsRepository, type RunFilter } from '../runs/runs.repository.js';
import { BulkAction } from './bulk-action.entity.js';
import type { BulkActionFailure, BulkActionFilter, BulkActionKind } from './bulk-action.types.js';

export interface NewBulkAction {
  id: string;
  action: BulkActionKind;
  filter: BulkActionFilter;
  runFilter: RunFilter;
  limit: number;
  idempotencyKey: string | null;
  requestHash: string;
}

export interface RunOutcome {
  runId: string;
  /** Null: done. */
  failure: { code: string; reason: string } | null;
}

/** The batch's outcomes and whatever `apply` returned for it, or null when no run was left to take. */
export type Batch<T> = { outcomes: RunOutcome[]; applied: T } | null;

@Injectable()
export class BulkActionsRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly runs: RunsRepository,
  ) {}

  /**
   * The action and the ids of the runs it applies to, in one transaction: `matched` is fixed here. With a key that is
   * taken, nothing is written and the action that holds it is returned (`created: false`).
   */
  async create(action: NewBulkAction): Promise<{ action: BulkAction; created: boolean }> {
    return this.dataSource.transaction(async (tx) => {
      // Concurrent requests with one key wait here for the first one's commit.
      const inserted: { id: string }[] = await tx.query(
        `INSERT INTO bulk_actions (id, action, status, filter, run_limit, idempotency_key, request_hash)
         VALUES ($1, $2, 'queued', $3::jsonb, $4, $5, $6)
         ON CONFLICT (idempotency_key) DO NOTHING
         RETURNING id`,
        [
          action.id,
          action.action,
          JSON.stringify(action.filter),
          action.limit,
          action.idempotencyKey,
          action.requestHash,
        ],
      );
      if (inserted.length === 0) {
        const existing = await tx.findOneByOrFail(BulkAction, { idempotencyKey: action.idempotencyKey ?? undefined });
        return { action: existing, created: false };
      }
      const [sql, params] = this.runs.matchingIdsQuery(action.runFilter, action.limit);
      await tx.query(
        `WITH snapshot AS (
                INSERT INTO bulk_action_runs (bulk_action_id, run_id)
                SELECT $${params.length + 1}::uuid, m.id FROM (${sql}) AS m
                RETURNING 1),
              counted AS (SELECT count(*)::int AS n FROM snapshot)
         UPDATE bulk_actions
            SET matched = counted.n,
                status = CASE WHEN counted.n = 0 THEN 'completed' ELSE 'queued' END,
                completed_at = CASE WHEN counted.n = 0 THEN now() END
           FROM counted
          WHERE id = $${params.length + 1}::uuid`,
        [...params, action.id],
      );
      return { action: await tx.findOneByOrFail(BulkAction, { id: action.id }), created: true };
    });
  }

  findById(id: string): Promise<BulkAction | null> {
    return this.dataSource.manager.findOneBy(BulkAction, { id });
  }

  async failuresOf(id: string, limit: number): Promise<BulkActionFailure[]> {
    const rows: { run_id: string; reason_code: string; reason: string }[] = await this.dataSource.query(
      `SELECT run_id, reason_code, reason FROM bulk_action_runs
        WHERE bulk_action_id = $1 AND outcome = 'failed'
        ORDER BY run_id DESC LIMIT $2`,
      [id, limit],
    );
    return rows.map((row) => ({ runId: row.run_id, code: row.reason_code, reason: row.reason }));
  }

  /**
   * Takes up to `size` runs of the action that no one has acted on, skipping those another worker holds, lets `apply`
   * act on them inside the same transaction and records the outcomes it returns with the counts: each run is acted on
   * once, whichever process takes it, and a crash before the commit leaves both the runs and the action unchanged.
   */
  async processBatch<T>(
    id: string,
    size: number,
    apply: (runIds: string[], tx: EntityManager) => Promise<{ outcomes: RunOutcome[]; applied: T }>,
  ): Promise<Batch<T>> {
    return this.dataSource.transaction(async (tx) => {
      const taken: { run_id: string }[] = await tx.query(
        `SELECT run_id FROM bulk_action_runs
          WHERE bulk_action_id = $1 AND outcome IS NULL
          ORDER BY run_id DESC LIMIT $2
          FOR UPDATE SKIP LOCKED`,
        [id, size],
      );
      if (taken.length === 0) return null;
      const result = await apply(
        taken.map((row) => row.run_id),
        tx,
      );
      const failures = result.outcomes.filter((o) => o.failure !== null);
      await tx.query(
        `UPDATE bulk_action_runs b
            SET outcome = CASE WHEN o.reason_code IS NULL THEN 'done' ELSE 'failed' END,
                reason_code = o.reason_code, reason = o.reason
           FROM unnest($2::uuid[], $3::text[], $4::text[]) AS o(run_id, reason_code, reason)
          WHERE b.bulk_action_id = $1 AND b.run_id = o.run_id`,
        [
          id,
          result.outcomes.map((o) => o.runId),
          result.outcomes.map((o) => o.failure?.code ?? null),
          result.outcomes.map((o) => o.failure?.reason ?? null),
        ],
      );
      // Batches of one action meet on this row, last: its counts are always those of the committed outcomes.
      await tx.query(
        `UPDATE bulk_actions
            SET done = done + $2, failed = failed + $3, progressed_at = now(),
                status = CASE WHEN done + failed + $2 + $3 >= matched THEN 'completed' ELSE 'running' END,
                completed_at = CASE WHEN done + failed + $2 + $3 >= matched THEN now() END
          WHERE id = $1`,
        [id, result.outcomes.length - failures.length, failures.length],
      );
      return result;
    });
  }

  /**
   * Unfinished actions that made no progress since `before` (their job lost, or their worker gone), marked as
   * progressing now, so that other processes' sweeps leave them alone for a while.
   */
  async takeStalled(before: Date, limit: number): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `WITH due AS (
              SELECT id FROM bulk_actions
               WHERE status <> 'completed' AND progressed_at < $1
               ORDER BY progressed_at LIMIT $2
               FOR UPDATE SKIP LOCKED),
            taken AS (UPDATE bulk_actions a SET progressed_at = now() FROM due WHERE a.id = due.id RETURNING a.id)
       SELECT id FROM taken`,
      [before, limit],
    );
    return rows.map((row) => row.id);
  }
}
