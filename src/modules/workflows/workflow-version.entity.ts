import { Column, Entity, PrimaryColumn } from 'typeorm';

import type { WorkflowDefinition } from '../../engine/index.js';

/** Every definition a workflow has had; runs execute the version they started with. */
@Entity({ name: 'workflow_versions' })
export class WorkflowVersion {
  @PrimaryColumn('uuid', { name: 'workflow_id' })
  workflowId: string;

  @PrimaryColumn('int')
  version: number;

  @Column('jsonb')
  definition: WorkflowDefinition;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;
}
