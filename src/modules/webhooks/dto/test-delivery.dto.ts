import { ApiProperty } from '@nestjs/swagger';
import { IsDefined } from 'class-validator';

import { DELIVERY_OUTCOMES, type DeliveryOutcome } from '../deliveries/webhook-delivery.entity.js';

export class TestDeliveryDto {
  /**
   * Any JSON value: sent to the trigger's URL as the body, signed with its current secret under its scheme.
   * @example {"companyId":"acme","deals":[{"id":1},{"id":2},{"id":3}]}
   */
  @IsDefined()
  body: unknown;
}

export class TestDeliveryResponse {
  /**
   * The HTTP status the webhook URL answered.
   * @example 202
   */
  status: number;
  /**
   * What the delivery log records for it.
   * @example "accepted"
   */
  @ApiProperty({ enum: DELIVERY_OUTCOMES })
  deliveryOutcome: DeliveryOutcome;
  /**
   * The run it started (or, replayed, the first run).
   * @example "0193a8f2-6c1d-7e55-8b2a-3c4d5e6f7a8b"
   */
  runId?: string;
  /**
   * The webhook URL's error code, when it refused the delivery.
   * @example "rate_limited"
   */
  errorCode?: string;
}
