import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';

import { idOf } from '../../common/id-param.pipe.js';
import { ApiData, ApiErrors } from '../../common/openapi.decorator.js';
import {
  NotificationEventResponse,
  NotifyEndpointResponse,
  RotatedNotifySecretResponse,
} from './dto/notification.dto.js';
import { NotificationsService } from './notifications.service.js';

@ApiTags('Notifications')
@ApiBearerAuth()
@ApiErrors('unauthorized')
@Controller('v1')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get('workflows/:id/notify-endpoints')
  @ApiOperation({
    summary: "List a workflow's notify endpoints (from its definition's `notify`), without their secrets",
  })
  @ApiData(200, NotifyEndpointResponse, { list: true, noCursor: true })
  @ApiErrors('workflow_not_found')
  async listEndpoints(@Param('id', idOf('workflow')) id: string): Promise<{ data: NotifyEndpointResponse[] }> {
    return { data: await this.notifications.listEndpoints(id) };
  }

  @Post('workflows/:id/notify-endpoints/:endpointId/rotate-secret')
  @HttpCode(200)
  @ApiOperation({
    summary: "Replace a notify endpoint's signing secret; the new one is shown this once",
    description: 'Attempts from now on, retries of earlier events included, are signed with the new secret only.',
  })
  @ApiData(200, RotatedNotifySecretResponse)
  @ApiErrors('workflow_not_found', 'notify_endpoint_not_found')
  async rotateSecret(
    @Param('id', idOf('workflow')) id: string,
    @Param('endpointId', idOf('notify_endpoint')) endpointId: string,
  ): Promise<{ data: RotatedNotifySecretResponse }> {
    return { data: await this.notifications.rotateSecret(id, endpointId) };
  }

  @Get('workflow-runs/:id/notifications')
  @ApiOperation({ summary: "A run's notification events, each with its delivery attempts" })
  @ApiData(200, NotificationEventResponse, { list: true, noCursor: true })
  @ApiErrors('run_not_found')
  async listForRun(@Param('id', idOf('run')) id: string): Promise<{ data: NotificationEventResponse[] }> {
    return { data: await this.notifications.listForRun(id) };
  }
}
