import { Column, Entity, PrimaryColumn } from 'typeorm';

import type { SchemeOptions } from './verification/webhook-scheme.interface.js';

@Entity({ name: 'webhook_triggers' })
export class WebhookTrigger {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { name: 'workflow_id', unique: true })
  workflowId: string;

  @Column('text', { unique: true })
  slug: string;

  @Column('text')
  scheme: string;

  @Column('boolean', { default: true })
  enabled: boolean;

  @Column('int', { name: 'tolerance_seconds' })
  toleranceSeconds: number;

  /** What the scheme's validateOptions returned when the trigger was saved; `{}` for schemes without options. */
  @Column('jsonb', { default: {} })
  options: SchemeOptions;

  /** A JSONata expression over `{ body, headers }`: a delivery for which it is not truthy starts no run. */
  @Column('text', { nullable: true })
  filter: string | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt: Date;
}
