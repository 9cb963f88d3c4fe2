import { hash } from 'node:crypto';

import { Inject, Injectable, Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

import { newIdAt } from '../../../common/ids.js';
import { APP_CONFIG, type AppConfig } from '../../../config/app.config.js';
import { isSlugShaped } from '../webhook-slug.generator.js';
import { TriggerCache } from '../trigger-cache.js';
import type { DeliveryOutcome } from './webhook-delivery.entity.js';
import { WebhookDeliveriesRecorder } from './webhook-deliveries.recorder.js';

declare module 'http' {
  interface IncomingMessage {
    /** Set by the webhook controller once the delivery has its run. */
    webhookRun?: { id: string; replayed: boolean };
    /** Set by the delivery log on the way in to a webhook path: when the request came in (epoch ms). */
    webhookReceivedAtMs?: number;
  }
}

const WEBHOOK_PATH = '/webhooks/workflows/';
const WEBHOOK_ROUTE = /^\/webhooks\/workflows\/([^/]+)\/?$/;

/**
 * Records every POST to `/webhooks/workflows/{slug}` whose slug names a trigger (an unknown slug has no
 * trigger to list it under; a slug not of the generated shape is not even looked up; other methods answer
 * 405 and deliver nothing), whatever answered it: the guard, the controller, or the body parser, which
 * refuses an oversized body before any route runs. That is why this is an express middleware mounted before
 * the body parser (configure-app.ts) rather than a Nest interceptor. It only notes the
 * time on the way in; everything else happens once the answer has been sent ('finish'), from what the
 * guard (`verifiedWebhook`), the controller (`webhookRun`) and the exception filter (`res.locals.errorCode`)
 * left on the request, with the trigger looked up through the cache when the guard did not get that far.
 * A request whose connection closed before its answer was sent has no outcome and is not recorded. A
 * delivery that started a run is not recorded here at all: the run's own row logs it (one row per
 * accepted webhook, not two), and the repository lists both.
 */
@Injectable()
export class WebhookDeliveryLogMiddleware {
  private readonly logger = new Logger('WebhookDeliveries');

  /** Whether the per-delivery debug line is logged at all: building it costs on every webhook. */
  private readonly debug: boolean;

  /** The one `finish` listener of every webhook response (an emitter calls it with `this` = the response). */
  private readonly onFinish: (this: Response) => void;

  constructor(
    private readonly recorder: WebhookDeliveriesRecorder,
    private readonly triggers: TriggerCache,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.debug = config.logLevel === 'debug' || config.logLevel === 'trace';
    // One function for all responses, not a closure per webhook.
    const answered = (res: Response): void => this.answered(res);
    this.onFinish = function (this: Response): void {
      answered(this);
    };
  }

  readonly use = (req: Request, res: Response, next: NextFunction): void => {
    // Only the time on the way in: the slug is read from the path once the outcome needs logging.
    if (req.method === 'POST' && req.path.startsWith(WEBHOOK_PATH)) {
      req.webhookReceivedAtMs = Date.now();
      // 'finish' comes at most once per response, so `on` needs no `once` wrapper.
      res.on('finish', this.onFinish);
    }
    next();
  };

  /** Runs as `finish`'s listener; `this` is the answered response. */
  private answered(res: Response): void {
    const req = res.req;
    const receivedAtMs = req.webhookReceivedAtMs;
    if (receivedAtMs === undefined) return;
    // The common case, decided without a promise: a delivery that started a run is logged in the run's row.
    if (!this.debug && res.statusCode < 300 && req.webhookRun !== undefined && !req.webhookRun.replayed) return;
    const slug = slugOf(req.path);
    if (slug === null) return;
    this.finished(req, res, slug, receivedAtMs).catch((error: unknown) =>
      this.logger.warn(`Could not log a webhook delivery to ${slug}: ${(error as Error).message}`),
    );
  }

  private async finished(req: Request, res: Response, slug: string, receivedAtMs: number): Promise<void> {
    const trigger = req.verifiedWebhook?.trigger ?? (await this.triggers.get(slug));
    if (!trigger) return;
    const status = res.statusCode;
    const run = status < 300 ? req.webhookRun : undefined;
    // A 2xx without a run is Slack's URL verification handshake: accepted, though it starts nothing.
    const outcome: DeliveryOutcome = status >= 300 ? 'rejected' : run?.replayed ? 'replayed' : 'accepted';
    const errorCode = status >= 400 && typeof res.locals.errorCode === 'string' ? res.locals.errorCode : null;
    const body = Buffer.isBuffer(req.body) ? req.body : null;
    // A delivery that started a run is logged in the run's row (WebhooksService.accept).
    const loggedInRun = outcome === 'accepted' && run !== undefined;
    // An id of the moment received, so that time ranges over deliveries are id ranges (the repository).
    const id = loggedInRun ? run.id : newIdAt(receivedAtMs);
    if (!loggedInRun) {
      this.recorder.record({
        id,
        triggerId: trigger.id,
        workflowId: trigger.workflowId,
        receivedAt: new Date(receivedAtMs),
        outcome,
        statusCode: status,
        errorCode,
        bodyBytes: body ? body.length : declaredLength(req),
        bodySha256: body ? hash('sha256', body, 'hex') : null,
        deliveryId: req.verifiedWebhook?.deliveryId ?? null,
        runId: run?.id ?? null,
        requestId: req.requestId ?? null,
      });
    }
    if (this.debug) {
      this.logger.debug(
        `Delivery ${id} to trigger ${trigger.id}: ${outcome} ${status}${errorCode ? ` ${errorCode}` : ''}` +
          `${run ? ` run ${run.id}` : ''} (request ${req.requestId ?? '-'})`,
      );
    }
  }
}

function slugOf(path: string): string | null {
  const match = WEBHOOK_ROUTE.exec(path);
  if (!match) return null;
  let slug: string;
  try {
    slug = decodeURIComponent(match[1]);
  } catch {
    return null;
  }
  return isSlugShaped(slug) ? slug : null;
}

function declaredLength(req: Request): number | null {
  const header = req.headers['content-length'];
  return header !== undefined && /^\d{1,15}$/.test(header) ? Number(header) : null;
}
