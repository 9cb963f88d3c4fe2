import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';

import { idOf } from '../../../common/id-param.pipe.js';
import { ApiData, ApiErrors } from '../../../common/openapi.decorator.js';
import type { Page } from '../../../common/pagination.util.js';
import { ListDeliveriesQueryDto, WebhookDeliveryResponse } from '../dto/webhook-delivery.dto.js';
import { WebhookDeliveriesService } from './webhook-deliveries.service.js';

@ApiTags('Webhook triggers')
@ApiBearerAuth()
@ApiErrors('unauthorized')
@Controller('v1/workflows/:id/trigger')
export class WebhookDeliveriesController {
  constructor(private readonly deliveries: WebhookDeliveriesService) {}

  @Get('webhook/deliveries')
  @ApiOperation({
    summary: "List the requests made to the trigger's URL, newest first, and what became of each",
    description:
      'Every request that reached the trigger is listed within a second or so of its answer: accepted, replayed ' +
      '(a retry: no new run) or rejected with its error code. Bodies, headers and secrets are never kept; ' +
      'entries older than DELIVERY_RETENTION_HOURS (default 168) are pruned.',
  })
  @ApiData(200, WebhookDeliveryResponse, { list: true })
  @ApiErrors('workflow_not_found', 'trigger_not_found', 'validation_failed')
  list(
    @Param('id', idOf('workflow')) id: string,
    @Query() query: ListDeliveriesQueryDto,
  ): Promise<Page<WebhookDeliveryResponse>> {
    return this.deliveries.list(id, query);
  }
}
