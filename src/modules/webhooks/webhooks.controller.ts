import { Controller, Get, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiExtraModels,
  ApiHeader,
  ApiOperation,
  ApiParam,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';

import { MethodNotAllowedError } from '../../common/domain.error.js';
import { ApiData, ApiErrors } from '../../common/openapi.decorator.js';
import { Public } from '../api-keys/public.decorator.js';
import { AcceptedWebhookResponse } from '../runs/dto/run.dto.js';
import { FilteredWebhookResponse } from './dto/filtered-webhook.dto.js';
import { SlackChallengeResponse } from './dto/slack-challenge.dto.js';
import { WebhookRequestContext } from './webhook-request.context.js';
import type { HandshakeAnswer } from './verification/webhook-scheme.interface.js';
import { rawBodyOf, WebhookSignatureGuard } from './webhook-signature.guard.js';
import { WebhooksService } from './webhooks.service.js';

@ApiTags('Webhooks')
// Signed by the sender instead of an API key.
@Public()
@Controller('webhooks/workflows')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post(':slug')
  @HttpCode(202)
  @UseGuards(WebhookSignatureGuard)
  @ApiOperation({
    summary: "Start a run of the workflow behind this trigger, verified by the trigger's signature scheme",
    description:
      'Default scheme `standard-webhooks`: signed content `${webhook-id}.${webhook-timestamp}.${raw body}`; signature ' +
      '`v1,` + base64(HMAC-SHA256(base64-decoded secret after `whsec_`, content)), or `v1a,` + an ed25519 signature ' +
      'when the trigger holds a `whpk_` public key. `svix-*` header names are accepted too. Other schemes: `github` ' +
      '(`X-Hub-Signature-256`), `stripe` (`Stripe-Signature`), `slack` (`X-Slack-Signature`), `shopify` ' +
      "(`X-Shopify-Hmac-Sha256`), `hmac-sha256` and `token` (headers set in the trigger's options). The same delivery " +
      "id again answers 202 with the first run and `idempotent-replayed: true`. The trigger's `filter`, if any, " +
      'is evaluated after verification: not truthy, the answer is 200 `{ data: { filtered: true } }` and no run ' +
      'starts; failing, `500 filter_failed` (retry once the filter is corrected).',
  })
  @ApiParam({ name: 'slug', description: "The trigger's slug, from its `url`" })
  @ApiHeader({
    name: 'webhook-id',
    required: false,
    description: 'standard-webhooks: unique per delivery; retries reuse it',
  })
  @ApiHeader({ name: 'webhook-timestamp', required: false, description: 'standard-webhooks: Unix seconds' })
  @ApiHeader({
    name: 'webhook-signature',
    required: false,
    description: 'standard-webhooks: space-separated `v1,<base64>` (or `v1a,<base64>`) signatures',
  })
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded')
  @ApiBody({
    description: "Any JSON value (or form fields): the run's input",
    schema: { type: 'object', additionalProperties: true, example: { companyId: 'acme', deals: [{ id: 1 }] } },
  })
  @ApiData(202, AcceptedWebhookResponse, { description: 'Accepted; `Location` points at the run' })
  @ApiExtraModels(FilteredWebhookResponse, SlackChallengeResponse)
  @ApiResponse({
    status: 200,
    description:
      "No run starts: the trigger's `filter` is not truthy for this delivery (`{ data: { filtered: true } }`), or, " +
      "`slack` scheme only, the answer to Slack's signed `url_verification` request",
    schema: {
      oneOf: [
        { type: 'object', required: ['data'], properties: { data: { $ref: getSchemaPath(FilteredWebhookResponse) } } },
        { $ref: getSchemaPath(SlackChallengeResponse) },
      ],
    },
  })
  @ApiErrors(
    'trigger_not_found',
    'missing_signature',
    'invalid_signature',
    'timestamp_out_of_tolerance',
    'invalid_json',
    'invalid_body',
    'unsupported_media_type',
    'payload_too_large',
    'rate_limited',
    'filter_failed',
    'unavailable',
  )
  // The guard reads the slug from the route; no @Param here, so that no pipe runs on the busiest route.
  async receive(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ data: AcceptedWebhookResponse | FilteredWebhookResponse } | HandshakeAnswer> {
    const context = WebhookRequestContext.for(req);
    const outcome = await this.webhooks.accept(context.verified!, {
      contentType: req.headers['content-type'],
      headers: req.headers,
      rawBody: rawBodyOf(req),
      requestId: context.requestId,
    });
    if (outcome.kind === 'handshake') {
      res.status(200);
      return outcome.answer;
    }
    if (outcome.kind === 'filtered') {
      context.filtered = true;
      res.status(200);
      return { data: { filtered: true } };
    }
    const { run } = outcome;
    context.run = { id: run.id, replayed: !run.created };
    res.setHeader('Location', `/v1/workflow-runs/${run.id}`);
    if (!run.created) res.setHeader('idempotent-replayed', 'true');
    return { data: { runId: run.id, workflowId: run.workflowId, status: run.status } };
  }

  @Get(':slug')
  // Keeps the Swagger plugin from documenting a 200.
  @HttpCode(405)
  @ApiOperation({ summary: 'Not a delivery: webhooks are POSTed; answers 405 with `Allow: POST` (HEAD too)' })
  @ApiParam({ name: 'slug', description: "The trigger's slug, from its `url`" })
  @ApiErrors('method_not_allowed')
  refuseRead(): never {
    throw new MethodNotAllowedError(
      ['POST'],
      'Webhooks are delivered with POST: this URL takes signed POST requests only',
    );
  }
}
