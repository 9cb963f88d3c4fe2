import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import type { RunError } from '../runs/run-status.types.js';
import type { NotificationType } from './notification.payload.js';

export type NotificationStatus = 'pending' | 'delivered' | 'failed';

/** An event claimed for one attempt, with what it takes to send it. */
export interface ClaimedNotification {
  id: string;
  runId: string;
  workflowId: string;
  workflowName: string | null;
  type: NotificationType;
  run: { status: string; error: RunError | null; startedAt: string | null; completedAt: string | null };
  /** This attempt's number, from 1. */
  attempt: number;
  createdAt: Date;
  /** The JSON body sent before, `null` before the first attempt. */
  body: string | null;
  url: string;
  /** Ciphertext; the endpoint id is its associated data. */
  secret: string;
  endpointId: string;
}

export interface NotificationAttempt {
  attemptedAt: Date;
  durationMs: number;
  statusCode: number | null;
  errorCode: string | null;
  error: string | null;
  delivered: boolean;
}

export interface NotificationEvent {
  id: string;
  runId: string;
  endpointId: string;
  url: string;
  type: NotificationType;
  status: NotificationStatus;
  attempts: NotificationAttempt[];
  nextAttemptAt: Date | null;
  createdAt: Date;
  finishedAt: Date | null;
}

// The claim moves next_attempt_at past the attempt's timeout: until then no other process takes the event, and
// if this one dies mid-attempt the event is due again afterwards (at least once, never twice at once).
const CLAIM_DUE = `
  WITH due AS (
    SELECT id FROM notification_events
     WHERE status = 'pending' AND next_attempt_at <= clock_timestamp()
     ORDER BY next_attempt_at
     LIMIT $1
       FOR UPDATE SKIP LOCKED),
  claimed AS (
    UPDATE notification_events e
       SET attempts = e.attempts + 1, next_attempt_at = clock_timestamp() + $2 * interval '1 millisecond'
      FROM due WHERE e.id = due.id
    RETURNING e.id, e.run_id, e.workflow_id, e.endpoint_id, e.type, e.run, e.attempts, e.created_at, e.body)
  SELECT c.*, n.url, n.secret, w.name AS workflow_name
    FROM claimed c
    JOIN notify_endpoints n ON n.id = c.endpoint_id
    LEFT JOIN workflows w ON w.id = c.workflow_id`;

interface ClaimedRow {
  id: string;
  run_id: string;
  workflow_id: string;
  endpoint_id: string;
  type: NotificationType;
  run: ClaimedNotification['run'];
  attempts: number;
  created_at: Date;
  body: string | null;
  url: string;
  secret: string;
  workflow_name: string | null;
}

@Injectable()
export class NotificationEventsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async claimDue(limit: number, leaseMs: number): Promise<ClaimedNotification[]> {
    const rows: ClaimedRow[] = await this.dataSource.query(CLAIM_DUE, [limit, leaseMs]);
    return rows.map((row) => ({
      id: row.id,
      runId: row.run_id,
      workflowId: row.workflow_id,
      workflowName: row.workflow_name,
      endpointId: row.endpoint_id,
      type: row.type,
      run: row.run,
      attempt: row.attempts,
      createdAt: row.created_at,
      body: row.body,
      url: row.url,
      secret: row.secret,
    }));
  }

  /** The attempt and the event's new state, in one transaction; the body is kept from the first attempt on. */
  async recordAttempt(
    eventId: string,
    attemptId: string,
    attempt: NotificationAttempt,
    body: string,
    next: { status: NotificationStatus; nextAttemptAt: Date | null },
  ): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO notification_attempts
           (id, event_id, attempted_at, duration_ms, status_code, error_code, error, delivered)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          attemptId,
          eventId,
          attempt.attemptedAt,
          attempt.durationMs,
          attempt.statusCode,
          attempt.errorCode,
          attempt.error,
          attempt.delivered,
        ],
      );
      await tx.query(
        `UPDATE notification_events
            SET status = $2, next_attempt_at = COALESCE($3, next_attempt_at), body = COALESCE(body, $4),
                finished_at = CASE WHEN $2 = 'pending' THEN NULL ELSE clock_timestamp() END
          WHERE id = $1`,
        [eventId, next.status, next.nextAttemptAt, body],
      );
    });
  }

  /** When the next pending event is due, for the dispatcher's timer. */
  async nextDueAt(): Promise<Date | null> {
    const [row] = await this.dataSource.query<{ due: Date | null }[]>(
      `SELECT min(next_attempt_at) AS due FROM notification_events WHERE status = 'pending'`,
    );
    return row.due;
  }

  async runExists(runId: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(`SELECT 1 FROM workflow_runs WHERE id = $1`, [runId]);
    return rows.length > 0;
  }

  async listForRun(runId: string): Promise<NotificationEvent[]> {
    const rows = await this.dataSource.query<
      {
        id: string;
        run_id: string;
        endpoint_id: string;
        url: string;
        type: NotificationType;
        status: NotificationStatus;
        next_attempt_at: Date;
        created_at: Date;
        finished_at: Date | null;
        attempts: {
          attempted_at: string;
          duration_ms: number;
          status_code: number | null;
          error_code: string | null;
          error: string | null;
          delivered: boolean;
        }[];
      }[]
    >(
      `SELECT e.id, e.run_id, e.endpoint_id, n.url, e.type, e.status, e.next_attempt_at, e.created_at, e.finished_at,
              COALESCE((SELECT json_agg(a ORDER BY a.attempted_at, a.id)
                          FROM notification_attempts a WHERE a.event_id = e.id), '[]'::json) AS attempts
         FROM notification_events e
         JOIN notify_endpoints n ON n.id = e.endpoint_id
        WHERE e.run_id = $1
        ORDER BY e.created_at, e.id`,
      [runId],
    );
    return rows.map((row) => ({
      id: row.id,
      runId: row.run_id,
      endpointId: row.endpoint_id,
      url: row.url,
      type: row.type,
      status: row.status,
      nextAttemptAt: row.status === 'pending' ? row.next_attempt_at : null,
      createdAt: row.created_at,
      finishedAt: row.finished_at,
      attempts: row.attempts.map((a) => ({
        attemptedAt: new Date(a.attempted_at),
        durationMs: a.duration_ms,
        statusCode: a.status_code,
        errorCode: a.error_code,
        error: a.error,
        delivered: a.delivered,
      })),
    }));
  }

  /** Finished events whose run is gone (run retention, or a deleted workflow's runs): they go with it. */
  async deleteOrphans(limit: number): Promise<number> {
    // TypeORM answers a DELETE with [rows, count].
    const [, count]: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM notification_events WHERE id IN (
         SELECT e.id FROM notification_events e
          WHERE e.status <> 'pending' AND NOT EXISTS (SELECT 1 FROM workflow_runs r WHERE r.id = e.run_id)
          LIMIT $1)`,
      [limit],
    );
    return count;
  }
}
