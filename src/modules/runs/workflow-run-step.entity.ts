import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';

import type { StepStatus } from './run-status.types.js';
import { WorkflowRun } from './workflow-run.entity.js';

@Entity({ name: 'workflow_run_steps' })
export class WorkflowRunStep {
  @PrimaryColumn('uuid', { name: 'run_id' })
  runId: string;

  @PrimaryColumn('text', { name: 'step_id' })
  stepId: string;

  @ManyToOne(() => WorkflowRun, (run) => run.steps, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'run_id' })
  run?: Relation<WorkflowRun>;

  @Column('int')
  position: number;

  @Column('text')
  type: string;

  @Column('text')
  status: StepStatus;

  @Column('int', { default: 0 })
  attempts: number;

  @Column('timestamptz', { name: 'started_at', nullable: true })
  startedAt: Date | null;

  @Column('timestamptz', { name: 'finished_at', nullable: true })
  finishedAt: Date | null;

  @Column('jsonb', { nullable: true })
  output: unknown;

  @Column('jsonb', { nullable: true })
  error: { code: string; message: string } | null;
}
