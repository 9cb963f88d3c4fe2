import { Column, Entity, PrimaryColumn, type ValueTransformer } from 'typeorm';

export const DELIVERY_OUTCOMES = ['accepted', 'replayed', 'rejected', 'filtered', 'filter_failed'] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

/** pg reads bigint as a string; body sizes fit a number. */
const bigintAsNumber: ValueTransformer = {
  to: (value: number | null) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

/** Never the body, headers or secrets. A delivery that started a run is logged in the run's row instead. */
@Entity({ name: 'webhook_deliveries' })
export class WebhookDelivery {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { name: 'trigger_id' })
  triggerId: string;

  @Column('uuid', { name: 'workflow_id' })
  workflowId: string;

  @Column('timestamptz', { name: 'received_at' })
  receivedAt: Date;

  @Column('text')
  outcome: DeliveryOutcome;

  @Column('int', { name: 'status_code' })
  statusCode: number;

  @Column('text', { name: 'error_code', nullable: true })
  errorCode: string | null;

  /** For a body refused before it was read (413), the Content-Length the sender declared. */
  @Column('bigint', { name: 'body_bytes', nullable: true, transformer: bigintAsNumber })
  bodyBytes: number | null;

  @Column('text', { name: 'body_sha256', nullable: true })
  bodySha256: string | null;

  @Column('text', { name: 'delivery_id', nullable: true })
  deliveryId: string | null;

  @Column('uuid', { name: 'run_id', nullable: true })
  runId: string | null;

  @Column('text', { name: 'request_id', nullable: true })
  requestId: string | null;

  /** Why the trigger's filter failed (`filter_failed`); null otherwise. */
  @Column('text', { nullable: true })
  reason: string | null;
}
