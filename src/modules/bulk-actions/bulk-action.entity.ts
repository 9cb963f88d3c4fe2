import { Column, Entity, PrimaryColumn } from 'typeorm';

import type { BulkActionFilter, BulkActionKind, BulkActionStatus } from './bulk-action.types.js';

@Entity({ name: 'bulk_actions' })
export class BulkAction {
  @PrimaryColumn('uuid')
  id: string;

  @Column('text')
  action: BulkActionKind;

  @Column('text')
  status: BulkActionStatus;

  @Column('jsonb')
  filter: BulkActionFilter;

  @Column('int', { name: 'run_limit' })
  limit: number;

  @Column('text', { name: 'idempotency_key', nullable: true })
  idempotencyKey: string | null;

  /** Of the normalised request: the same key with another request is refused. */
  @Column('text', { name: 'request_hash' })
  requestHash: string;

  @Column('int')
  matched: number;

  @Column('int')
  done: number;

  @Column('int')
  failed: number;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  /** Set by every batch: an unfinished action whose time is old has lost its worker or its job. */
  @Column('timestamptz', { name: 'progressed_at' })
  progressedAt: Date;

  @Column('timestamptz', { name: 'completed_at', nullable: true })
  completedAt: Date | null;
}
