import { Column, Entity, PrimaryColumn } from 'typeorm';

import type { WorkflowDefinition } from '../../engine/index.js';

@Entity({ name: 'workflows' })
export class Workflow {
  @PrimaryColumn('uuid')
  id: string;

  @Column('text')
  name: string;

  @Column('text', { nullable: true })
  description: string | null;

  @Column('boolean', { default: true })
  enabled: boolean;

  @Column('int')
  version: number;

  @Column('jsonb')
  definition: WorkflowDefinition;

  /** `null`: RUN_RETENTION_DAYS applies; 0 keeps its finished runs forever. */
  @Column('int', { name: 'run_retention_days', nullable: true })
  runRetentionDays: number | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt: Date;

  /** Soft delete: runs keep pointing at their workflow and version after it is gone. */
  @Column('timestamptz', { name: 'deleted_at', nullable: true })
  deletedAt: Date | null;
}
