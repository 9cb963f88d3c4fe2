import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';

import { idOf } from '../../common/id-param.pipe.js';
import { ApiData, ApiErrors } from '../../common/openapi.decorator.js';
import {
  CreatedWebhookTriggerResponse,
  CreateWebhookTriggerDto,
  RotatedSecretResponse,
  RotateSecretDto,
  UpdateWebhookTriggerDto,
  WebhookTriggerResponse,
} from './dto/webhook-trigger.dto.js';
import { TestDeliveryDto, TestDeliveryResponse } from './dto/test-delivery.dto.js';
import { WebhookTestDeliveryService } from './webhook-test-delivery.service.js';
import { WebhookTriggersService } from './webhook-triggers.service.js';

@ApiTags('Webhook triggers')
@ApiBearerAuth()
@ApiErrors('unauthorized')
@Controller('v1/workflows/:id/trigger')
export class WebhookTriggersController {
  constructor(
    private readonly triggers: WebhookTriggersService,
    private readonly testDeliveries: WebhookTestDeliveryService,
  ) {}

  @Post('webhook')
  @ApiOperation({ summary: 'Give a workflow a webhook trigger; the secret is shown only in this response' })
  @ApiData(201, CreatedWebhookTriggerResponse)
  @ApiErrors('workflow_not_found', 'trigger_exists', 'validation_failed', 'invalid_json', 'unsupported_media_type')
  async create(
    @Param('id', idOf('workflow')) id: string,
    @Body() body: CreateWebhookTriggerDto,
  ): Promise<{ data: CreatedWebhookTriggerResponse }> {
    return { data: await this.triggers.create(id, body) };
  }

  @Get('webhook')
  @ApiOperation({ summary: "Get a workflow's webhook trigger (without its secret)" })
  @ApiData(200, WebhookTriggerResponse)
  @ApiErrors('workflow_not_found', 'trigger_not_found')
  async get(@Param('id', idOf('workflow')) id: string): Promise<{ data: WebhookTriggerResponse }> {
    return { data: await this.triggers.get(id) };
  }

  @Patch('webhook')
  @ApiOperation({ summary: 'Enable or disable the trigger, or change its tolerance, scheme, options or secret' })
  @ApiData(200, WebhookTriggerResponse)
  @ApiErrors('workflow_not_found', 'trigger_not_found', 'validation_failed', 'invalid_json', 'unsupported_media_type')
  async update(
    @Param('id', idOf('workflow')) id: string,
    @Body() body: UpdateWebhookTriggerDto,
  ): Promise<{ data: WebhookTriggerResponse }> {
    return { data: await this.triggers.update(id, body) };
  }

  @Delete('webhook')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete the trigger; its URL answers 404 from now on' })
  @ApiErrors('workflow_not_found', 'trigger_not_found')
  delete(@Param('id', idOf('workflow')) id: string): Promise<void> {
    return this.triggers.delete(id);
  }

  @Post('webhook/test-delivery')
  @HttpCode(200)
  @ApiOperation({
    summary: "Send a delivery signed by the server with the trigger's current secret and scheme",
    description:
      "The body is POSTed to the trigger's own URL and meets what any delivery meets (verification, rate limit, " +
      'the run, the delivery log); the answer says what the URL answered. The secret appears nowhere.',
  })
  @ApiData(200, TestDeliveryResponse)
  @ApiErrors(
    'workflow_not_found',
    'trigger_not_found',
    'trigger_not_signable',
    'validation_failed',
    'invalid_json',
    'unsupported_media_type',
  )
  async testDelivery(
    @Param('id', idOf('workflow')) id: string,
    @Body() body: TestDeliveryDto,
  ): Promise<{ data: TestDeliveryResponse }> {
    return { data: await this.testDeliveries.send(id, body.body) };
  }

  @Post('webhook-secret/rotate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Replace the signing secret; the old one verifies until the grace period ends' })
  @ApiData(200, RotatedSecretResponse)
  @ApiErrors('workflow_not_found', 'trigger_not_found', 'validation_failed', 'invalid_json', 'unsupported_media_type')
  async rotate(
    @Param('id', idOf('workflow')) id: string,
    @Body() body: RotateSecretDto,
  ): Promise<{ data: RotatedSecretResponse }> {
    return { data: await this.triggers.rotateSecret(id, body) };
  }
}
