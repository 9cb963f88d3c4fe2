import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

import type { NotifyEndpointConfig, NotifyEvent } from '../../engine/index.js';

export interface NotifyEndpoint {
  id: string;
  /** `null`: the instance-wide endpoint of NOTIFY_URL. */
  workflowId: string | null;
  url: string;
  events: NotifyEvent[];
  /** Ciphertext (SecretCipher, the endpoint id as associated data). */
  secret: string;
  createdAt: Date;
  updatedAt: Date;
  secretRotatedAt: Date;
}

interface EndpointRow {
  id: string;
  workflow_id: string | null;
  url: string;
  events: NotifyEvent[];
  secret: string;
  created_at: Date;
  updated_at: Date;
  secret_rotated_at: Date;
}

const COLUMNS = 'id, workflow_id, url, events, secret, created_at, updated_at, secret_rotated_at';

function toEndpoint(row: EndpointRow): NotifyEndpoint {
  return {
    id: row.id,
    workflowId: row.workflow_id,
    url: row.url,
    events: row.events,
    secret: row.secret,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    secretRotatedAt: row.secret_rotated_at,
  };
}

export interface NewEndpoint {
  id: string;
  config: NotifyEndpointConfig;
  secret: string;
}

@Injectable()
export class NotifyEndpointsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Makes a workflow's endpoint rows what its definition says, keyed by URL: a kept URL keeps its id and secret,
   * a dropped one goes (with its events), a new one is inserted. Inside the caller's transaction (the save's).
   */
  async sync(
    tx: EntityManager,
    workflowId: string,
    wanted: NotifyEndpointConfig[],
    seal: (config: NotifyEndpointConfig) => NewEndpoint,
    now: Date,
  ): Promise<NewEndpoint[]> {
    const rows: EndpointRow[] = await tx.query(
      `SELECT ${COLUMNS} FROM notify_endpoints WHERE workflow_id = $1 ORDER BY id FOR UPDATE`,
      [workflowId],
    );
    const existing = new Map(rows.map((row) => [row.url, row]));
    const keep = new Set(wanted.map((config) => config.url));
    const dropped = rows.filter((row) => !keep.has(row.url)).map((row) => row.id);
    if (dropped.length > 0) await tx.query(`DELETE FROM notify_endpoints WHERE id = ANY($1::uuid[])`, [dropped]);
    const created: NewEndpoint[] = [];
    for (const config of wanted) {
      const row = existing.get(config.url);
      if (!row) {
        const endpoint = seal(config);
        await tx.query(
          `INSERT INTO notify_endpoints (id, workflow_id, url, events, secret, created_at, updated_at, secret_rotated_at)
           VALUES ($1, $2, $3, $4::text[], $5, $6, $6, $6)`,
          [endpoint.id, workflowId, config.url, config.events, endpoint.secret, now],
        );
        created.push(endpoint);
      } else if (row.events.join() !== config.events.join()) {
        await tx.query(`UPDATE notify_endpoints SET events = $2::text[], updated_at = $3 WHERE id = $1`, [
          row.id,
          config.events,
          now,
        ]);
      }
    }
    return created;
  }

  async listForWorkflow(workflowId: string): Promise<NotifyEndpoint[]> {
    const rows: EndpointRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM notify_endpoints WHERE workflow_id = $1 ORDER BY created_at, url`,
      [workflowId],
    );
    return rows.map(toEndpoint);
  }

  async findForWorkflow(workflowId: string, id: string): Promise<NotifyEndpoint | null> {
    const rows: EndpointRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM notify_endpoints WHERE workflow_id = $1 AND id = $2`,
      [workflowId, id],
    );
    return rows.length > 0 ? toEndpoint(rows[0]) : null;
  }

  async replaceSecret(id: string, secret: string, now: Date): Promise<NotifyEndpoint | null> {
    // TypeORM answers an UPDATE with [rows, count].
    const [rows]: [EndpointRow[], number] = await this.dataSource.query(
      `UPDATE notify_endpoints SET secret = $2, secret_rotated_at = $3, updated_at = $3 WHERE id = $1
       RETURNING ${COLUMNS}`,
      [id, secret, now],
    );
    return rows.length > 0 ? toEndpoint(rows[0]) : null;
  }

  /**
   * The instance-wide endpoint as this process's configuration says (`null`: none). Its id is kept while its URL
   * is, so that the events already written for it stay deliverable.
   */
  async syncInstance(
    endpoint: { url: string; events: NotifyEvent[] } | null,
    seal: (id: string) => string,
    newId: string,
    now: Date,
  ): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      await tx.query(`DELETE FROM notify_endpoints WHERE workflow_id IS NULL AND url IS DISTINCT FROM $1`, [
        endpoint?.url ?? null,
      ]);
      if (!endpoint) return;
      const rows: { id: string }[] = await tx.query(
        `SELECT id FROM notify_endpoints WHERE workflow_id IS NULL AND url = $1 FOR UPDATE`,
        [endpoint.url],
      );
      if (rows.length > 0) {
        await tx.query(`UPDATE notify_endpoints SET events = $2::text[], secret = $3, updated_at = $4 WHERE id = $1`, [
          rows[0].id,
          endpoint.events,
          seal(rows[0].id),
          now,
        ]);
        return;
      }
      await tx.query(
        `INSERT INTO notify_endpoints (id, workflow_id, url, events, secret, created_at, updated_at, secret_rotated_at)
         VALUES ($1, NULL, $2, $3::text[], $4, $5, $5, $5)
         ON CONFLICT (url) WHERE workflow_id IS NULL DO NOTHING`,
        [newId, endpoint.url, endpoint.events, seal(newId), now],
      );
    });
  }

  /** For `secrets:reencrypt`: rows locked and rewritten in one transaction, so a rotation waits, not overwritten. */
  async rewriteSecretsBatch(
    afterId: string | null,
    limit: number,
    rewrite: (row: { id: string; secret: string }) => string | null,
  ): Promise<{ lastId: string | null; scanned: number; rewritten: number }> {
    return this.dataSource.transaction(async (tx) => {
      const rows: { id: string; secret: string }[] = await tx.query(
        `SELECT id, secret FROM notify_endpoints WHERE $1::uuid IS NULL OR id > $1 ORDER BY id LIMIT $2 FOR UPDATE`,
        [afterId, limit],
      );
      const ids: string[] = [];
      const secrets: string[] = [];
      for (const row of rows) {
        const next = rewrite(row);
        if (next !== null) {
          ids.push(row.id);
          secrets.push(next);
        }
      }
      if (ids.length > 0) {
        await tx.query(
          `UPDATE notify_endpoints e SET secret = v.secret
             FROM unnest($1::uuid[], $2::text[]) AS v(id, secret) WHERE e.id = v.id`,
          [ids, secrets],
        );
      }
      return { lastId: rows.at(-1)?.id ?? null, scanned: rows.length, rewritten: ids.length };
    });
  }
}
