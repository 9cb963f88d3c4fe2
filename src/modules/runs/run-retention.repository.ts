import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { firstIdAt } from '../../common/ids.util.js';

export interface PrunedBatch {
  /** `null`: another process holds the pruning lock, and this one leaves the work to it. */
  deleted: number | null;
  /** The largest id deleted: the next batch starts after it. */
  lastId: string | null;
}

export const FIRST_RUN_ID = '00000000-0000-0000-0000-000000000000';

// Any fixed number, distinct from the migrations' lock.
const PRUNE_LOCK_ID = 7_201_552_818;
// A run's id (UUIDv7, app clock) is minted before its insert: a run that ended before `before` has an id below
// this much after it, so that the (workflow_id, id) index bounds the scan.
const ID_CLOCK_SLACK_MS = 10_000;

// Finished is `completed_at IS NOT NULL` (a CHECK ties it to the status); the status list is the rule itself, so
// that a status added later is kept until it is named here. Steps go with their run (ON DELETE CASCADE), and runs
// that name a deleted one as `rerun_of` keep going with it cleared (ON DELETE SET NULL).
const DELETE_BATCH = `
  WITH doomed AS (
    SELECT id FROM workflow_runs
     WHERE workflow_id = $1 AND id > $2 AND id < $3
       AND completed_at < $4 AND status IN ('completed', 'failed', 'cancelled')
     ORDER BY id
     LIMIT $5
       FOR UPDATE SKIP LOCKED),
  gone AS (DELETE FROM workflow_runs r USING doomed WHERE r.id = doomed.id RETURNING r.id)
  SELECT count(*)::int AS deleted, max(id::text) AS last_id FROM gone`;

@Injectable()
export class RunRetentionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * One short transaction: a workflow's finished runs that ended before `before`, after `afterId` in id order.
   * The transaction-scoped advisory lock lets one process prune at a time (two could deadlock through the rows
   * that `rerun_of` ties together); SKIP LOCKED passes over runs a request holds; lock_timeout bounds the wait on
   * a rerun row whose `rerun_of` is cleared.
   */
  deleteFinishedBefore(workflowId: string, before: Date, afterId: string, limit: number): Promise<PrunedBatch> {
    return this.dataSource.transaction(async (tx) => {
      await tx.query(`SET LOCAL lock_timeout = '2s'`);
      const [{ locked }] = await tx.query<{ locked: boolean }[]>('SELECT pg_try_advisory_xact_lock($1) AS locked', [
        PRUNE_LOCK_ID,
      ]);
      if (!locked) return { deleted: null, lastId: null };
      const [row] = await tx.query<{ deleted: number; last_id: string | null }[]>(DELETE_BATCH, [
        workflowId,
        afterId,
        firstIdAt(new Date(before.getTime() + ID_CLOCK_SLACK_MS)),
        before,
        limit,
      ]);
      return { deleted: row.deleted, lastId: row.last_id };
    });
  }
}
