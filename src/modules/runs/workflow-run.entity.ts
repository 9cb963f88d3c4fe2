import { Column, Entity, OneToMany, PrimaryColumn, type Relation } from 'typeorm';

import type { RunError, RunStatus, TriggerType } from './run-status.types.js';
import { WorkflowRunStep } from './workflow-run-step.entity.js';

@Entity({ name: 'workflow_runs' })
export class WorkflowRun {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { name: 'workflow_id' })
  workflowId: string;

  @Column('int', { name: 'workflow_version' })
  workflowVersion: number;

  @Column('text')
  status: RunStatus;

  @Column('text', { name: 'trigger_type' })
  triggerType: TriggerType;

  @Column('uuid', { name: 'trigger_id', nullable: true })
  triggerId: string | null;

  @Column('text', { name: 'webhook_id', nullable: true })
  webhookId: string | null;

  @Column('text', { name: 'idempotency_key', nullable: true })
  idempotencyKey: string | null;

  @Column('uuid', { name: 'rerun_of', nullable: true })
  rerunOf: string | null;

  @Column('jsonb', { nullable: true })
  input: unknown;

  @Column('jsonb', { nullable: true })
  output: unknown;

  @Column('jsonb', { nullable: true })
  error: RunError | null;

  /** Bumped by every claim of the run; fences writes from a stale worker. */
  @Column('int', { default: 0 })
  attempt: number;

  @Column('timestamptz', { name: 'wake_at', nullable: true })
  wakeAt: Date | null;

  @Column('timestamptz', { name: 'checked_at', nullable: true })
  checkedAt: Date | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'started_at', nullable: true })
  startedAt: Date | null;

  @Column('timestamptz', { name: 'completed_at', nullable: true })
  completedAt: Date | null;

  // Flow control: the keys the run was grouped by (null: not controlled, or not reached yet) and who superseded it.
  @Column('text', { name: 'concurrency_key', nullable: true })
  concurrencyKey?: string | null;

  @Column('text', { name: 'throttle_key', nullable: true })
  throttleKey?: string | null;

  @Column('text', { name: 'debounce_key', nullable: true })
  debounceKey?: string | null;

  @Column('uuid', { name: 'superseded_by', nullable: true })
  supersededBy?: string | null;

  /** Set by every status change; read only by the changes feed. */
  @Column('timestamptz', { name: 'updated_at', select: false })
  updatedAt?: Date;

  // The delivery that started a webhook run, for the delivery log; not loaded with the run.
  @Column('text', { name: 'request_id', nullable: true, select: false })
  requestId?: string | null;

  @Column('int', { name: 'body_bytes', nullable: true, select: false })
  bodyBytes?: number | null;

  @Column('text', { name: 'body_sha256', nullable: true, select: false })
  bodySha256?: string | null;

  @OneToMany(() => WorkflowRunStep, (step) => step.run)
  steps?: Relation<WorkflowRunStep>[];
}
