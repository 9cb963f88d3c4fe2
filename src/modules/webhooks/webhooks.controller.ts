import { Controller, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiHeader, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';

import { ApiData, ApiErrors } from '../../common/openapi.js';
import { AcceptedWebhookResponse } from '../runs/dto/run.dto.js';
import { rawBodyOf, WebhookSignatureGuard } from './webhook-signature.guard.js';
import { WebhooksService } from './webhooks.service.js';

@ApiTags('Webhooks')
@Controller('webhooks/workflows')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post(':slug')
  @HttpCode(202)
  @UseGuards(WebhookSignatureGuard)
  @ApiOperation({
    summary: 'Start a run of the workflow behind this trigger (Standard Webhooks signature)',
    description:
      'Signed content: `${webhook-id}.${webhook-timestamp}.${raw body}`; signature `v1,` + base64(HMAC-SHA256(' +
      'base64-decoded secret after `whsec_`, content)). `svix-*` header names are accepted too. The same ' +
      '`webhook-id` again answers 202 with the first run and `idempotent-replayed: true`.',
  })
  @ApiParam({ name: 'slug', description: "The trigger's slug, from its `url`" })
  @ApiHeader({ name: 'webhook-id', required: true, description: 'Unique per delivery; retries reuse it' })
  @ApiHeader({ name: 'webhook-timestamp', required: true, description: 'Unix seconds' })
  @ApiHeader({ name: 'webhook-signature', required: true, description: 'Space-separated `v1,<base64>` signatures' })
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded')
  @ApiBody({
    description: "Any JSON value (or form fields): the run's input",
    schema: { type: 'object', additionalProperties: true, example: { companyId: 'acme', deals: [{ id: 1 }] } },
  })
  @ApiData(202, AcceptedWebhookResponse, { description: 'Accepted; `Location` points at the run' })
  @ApiErrors(
    'trigger_not_found',
    'missing_signature',
    'invalid_signature',
    'timestamp_out_of_tolerance',
    'invalid_json',
    'unsupported_media_type',
    'payload_too_large',
    'rate_limited',
    'unavailable',
  )
  async receive(
    @Param('slug') _slug: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ data: AcceptedWebhookResponse }> {
    const run = await this.webhooks.accept(req.verifiedWebhook!, req.headers['content-type'], rawBodyOf(req));
    res.setHeader('Location', `/v1/workflow-runs/${run.id}`);
    if (!run.created) res.setHeader('idempotent-replayed', 'true');
    return { data: { runId: run.id, workflowId: run.workflowId, status: run.status } };
  }
}
