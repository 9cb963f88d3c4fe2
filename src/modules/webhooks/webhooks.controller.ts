import { Controller, Get, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiExtraModels,
  ApiHeader,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';

import { MethodNotAllowedError } from '../../common/domain.error.js';
import { ApiData, ApiErrors } from '../../common/openapi.decorator.js';
import { abortedOnClose } from '../../common/response-close.util.js';
import { Public } from '../api-keys/public.decorator.js';
import { AcceptedWebhookResponse, RunResponse } from '../runs/dto/run.dto.js';
import { MAX_WAIT_SECONDS, parseWaitQuery, WAIT_DESCRIPTION, type WaitQuery } from '../runs/run-wait.parser.js';
import { FilteredWebhookResponse } from './dto/filtered-webhook.dto.js';
import { runOutputBody, type JsonValueBody } from './dto/run-output.body.js';
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
      'starts; failing, `500 filter_failed` (retry once the filter is corrected). With `?wait=S`, a run that ends ' +
      'within S seconds answers 200 (a replay waits on the first run the same way); with `&reply=output` too, ' +
      "the answer's body is the run's output alone, or 502 `run_failed` when the run failed or was cancelled.",
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
  @ApiQuery({
    name: 'wait',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: MAX_WAIT_SECONDS, example: 3 },
    description: WAIT_DESCRIPTION,
  })
  @ApiQuery({
    name: 'reply',
    required: false,
    schema: { type: 'string', enum: ['output'] },
    description:
      'With `wait` only. `output`: a run that completes in time answers 200 with its `output` as the whole JSON body ' +
      "(`null` when it has none); one that fails or is cancelled in time answers 502 `run_failed` with the run's " +
      'error in `details`. For senders that show the answer, such as Slack slash commands and form handlers.',
  })
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded')
  @ApiBody({
    description: "Any JSON value (or form fields): the run's input",
    schema: { type: 'object', additionalProperties: true, example: { companyId: 'acme', deals: [{ id: 1 }] } },
  })
  @ApiData(202, AcceptedWebhookResponse, { description: 'Accepted; `Location` points at the run' })
  @ApiExtraModels(FilteredWebhookResponse, RunResponse, SlackChallengeResponse)
  @ApiResponse({
    status: 200,
    description:
      "With `wait`: the run ended in time, `{ data: run }`; with `reply=output` too, the completed run's output " +
      "(any JSON value). No run starts: the trigger's `filter` is not truthy for this delivery " +
      "(`{ data: { filtered: true } }`), or, `slack` scheme only, the answer to Slack's signed `url_verification` request",
    schema: {
      oneOf: [
        { type: 'object', required: ['data'], properties: { data: { $ref: getSchemaPath(RunResponse) } } },
        { description: "The run's output (`reply=output`): any JSON value" },
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
    'validation_failed',
    'run_failed',
  )
  // The guard reads the slug from the route; no @Param here, so that no pipe runs on the busiest route.
  async receive(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<
    | { data: AcceptedWebhookResponse | FilteredWebhookResponse }
    | { data: RunResponse }
    | JsonValueBody
    | HandshakeAnswer
  > {
    const context = WebhookRequestContext.for(req);
    const wait = waitQueryOf(req);
    const outcome = await this.webhooks.accept(context.verified!, {
      contentType: req.headers['content-type'],
      headers: req.headers,
      rawBody: rawBodyOf(req),
      requestId: context.requestId,
      wait: wait && { seconds: wait.seconds, signal: abortedOnClose(res) },
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
    if (outcome.ended) {
      res.status(200);
      return wait?.reply === 'output' ? runOutputBody(outcome.ended) : { data: outcome.ended };
    }
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

// Most deliveries carry no query string: for them not even express's query parser runs.
function waitQueryOf(req: Request): WaitQuery | null {
  if (!req.url.includes('?')) return null;
  const query = req.query as Record<string, unknown>;
  return parseWaitQuery(query.wait, query.reply, true);
}
