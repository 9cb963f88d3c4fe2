import { Column, Entity, PrimaryColumn, type ValueTransformer } from 'typeorm';

/** What became of a request to a trigger's URL. */
export const DELIVERY_OUTCOMES = ['accepted', 'replayed', 'rejected'] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

/** pg reads bigint as a string; body sizes fit a number. */
const bigintAsNumber: ValueTransformer = {
  to: (value: number | null) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

/**
 * One request that reached a trigger's URL: when, its answer, its size and the SHA-256 of its body (to
 * match it with what the sender shows), and the run it started. Never the body, headers or secrets. A
 * delivery that started a run has no row here: the run's own row logs it (RunsService lists them).
 */
@Entity({ name: 'webhook_deliveries' })
export class WebhookDelivery {
  /** A UUIDv7 of the moment received, so that time ranges are id ranges. */
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

  /** The error envelope's code, for answers other than 2xx. */
  @Column('text', { name: 'error_code', nullable: true })
  errorCode: string | null;

  /** Bytes received; for a body refused before it was read (413), the Content-Length the sender declared. */
  @Column('bigint', { name: 'body_bytes', nullable: true, transformer: bigintAsNumber })
  bodyBytes: number | null;

  /** Hex SHA-256 of the bytes received; null when the body was not read. */
  @Column('text', { name: 'body_sha256', nullable: true })
  bodySha256: string | null;

  /** The sender's delivery id (the deduplication id), once the signature verified. */
  @Column('text', { name: 'delivery_id', nullable: true })
  deliveryId: string | null;

  @Column('uuid', { name: 'run_id', nullable: true })
  runId: string | null;

  @Column('text', { name: 'request_id', nullable: true })
  requestId: string | null;
}
