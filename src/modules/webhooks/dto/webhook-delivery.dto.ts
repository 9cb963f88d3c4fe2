import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional } from 'class-validator';

import { ListQueryDto } from '../../../common/pagination.util.js';
import {
  DELIVERY_OUTCOMES,
  type DeliveryOutcome,
  type WebhookDelivery,
} from '../deliveries/webhook-delivery.entity.js';

export class ListDeliveriesQueryDto extends ListQueryDto {
  /**
   * Only deliveries with this outcome: `accepted` (started a run), `replayed` (a retry of a delivery
   * already accepted: no new run), `rejected` (any error answer but `filter_failed`), `filtered` (the
   * trigger's filter was not truthy: no run) or `filter_failed` (the filter failed to evaluate: no run).
   * @example "rejected"
   */
  @IsOptional()
  @IsIn(DELIVERY_OUTCOMES)
  outcome?: DeliveryOutcome;

  /**
   * Only deliveries received at or after this time (ISO 8601).
   * @example "2026-11-27T10:00:00.000Z"
   */
  @IsOptional()
  @IsISO8601({ strict: true })
  since?: string;
}

export class WebhookDeliveryResponse {
  /**
   * The entry's id, time-ordered; for a delivery that started a run, the run's id.
   * @example "0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a"
   */
  id: string;
  /** @example "2026-11-27T10:00:00.000Z" */
  receivedAt: string;
  /**
   * `accepted`, `replayed`, `rejected`, `filtered` or `filter_failed`.
   * @example "rejected"
   */
  @ApiProperty({ enum: DELIVERY_OUTCOMES })
  outcome: DeliveryOutcome;
  /**
   * The HTTP status hookrun answered.
   * @example 401
   */
  statusCode: number;
  /**
   * The error's `code` for a rejection, else null.
   * @example "invalid_signature"
   */
  errorCode: string | null;
  /**
   * Size of the body received, in bytes (for a body too large to read, the size the sender declared).
   * @example 1234
   */
  bodyBytes: number | null;
  /**
   * Hex SHA-256 of the body received, to match it with what the sender sent; null when it was not read.
   * @example "315f5bdb76d078c43b8ac0064e4a0164612b1fce77c869345bfc94c75894edd3"
   */
  bodySha256: string | null;
  /**
   * The sender's delivery id, used to deduplicate retries (`webhook-id`, `X-GitHub-Delivery`, a Stripe
   * event id...), once the signature verified; else null.
   * @example "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
   */
  deliveryId: string | null;
  /**
   * The run the delivery started (or, for a replay, the run its first delivery started).
   * @example "0193a8f2-6c10-7d2e-8b44-1f5e9a0d2c3b"
   */
  runId: string | null;
  /**
   * The `x-request-id` of hookrun's answer, as the sender may show it.
   * @example "0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a"
   */
  requestId: string | null;
  /**
   * Why the trigger's filter failed (`filter_failed`), for the workflow's owner; else null.
   * @example "The left side of the \"+\" operator must evaluate to a number at position 12"
   */
  reason: string | null;
}

export function toWebhookDeliveryResponse(delivery: WebhookDelivery): WebhookDeliveryResponse {
  return {
    id: delivery.id,
    receivedAt: delivery.receivedAt.toISOString(),
    outcome: delivery.outcome,
    statusCode: delivery.statusCode,
    errorCode: delivery.errorCode,
    bodyBytes: delivery.bodyBytes,
    bodySha256: delivery.bodySha256,
    deliveryId: delivery.deliveryId,
    runId: delivery.runId,
    requestId: delivery.requestId,
    reason: delivery.reason,
  };
}
