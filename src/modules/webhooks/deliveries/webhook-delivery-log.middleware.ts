import { Inject, Injectable, Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

import { about } from '../../../common/log.context.js';
import { RequestContext } from '../../../common/request.context.js';
import { APP_CONFIG, type AppConfig } from '../../../config/app.config.js';
import { MetricsRegistry } from '../../metrics/metrics.registry.js';
import { isSlugShaped } from '../webhook-slug.generator.js';
import { TriggerCache } from '../trigger.cache.js';
import { WebhookRequestContext } from '../webhook-request.context.js';
import { WebhookDeliveriesRecorder } from './webhook-deliveries.recorder.js';

const WEBHOOK_PATH = '/webhooks/workflows/';
const WEBHOOK_ROUTE = /^\/webhooks\/workflows\/([^/]+)\/?$/;

// A middleware before the body parser, not an interceptor, so webhooks refused as too large are logged too.
@Injectable()
export class WebhookDeliveryLogMiddleware {
  private readonly logger = new Logger('WebhookDeliveries');
  private readonly debug: boolean;
  private readonly onFinish: (this: Response) => void;

  constructor(
    private readonly recorder: WebhookDeliveriesRecorder,
    private readonly triggers: TriggerCache,
    private readonly metrics: MetricsRegistry,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.debug = config.logLevel === 'debug' || config.logLevel === 'trace';
    // One listener for all responses, not a closure per webhook.
    const answered = (res: Response): void => this.answered(res);
    this.onFinish = function (this: Response): void {
      answered(this);
    };
  }

  readonly use = (req: Request, res: Response, next: NextFunction): void => {
    if (req.method === 'POST' && req.path.startsWith(WEBHOOK_PATH)) {
      new WebhookRequestContext(RequestContext.of(req)?.requestId ?? '', Date.now()).attachTo(req);
      res.on('finish', this.onFinish);
    }
    next();
  };

  private answered(res: Response): void {
    const context = WebhookRequestContext.of(res.req);
    if (context === undefined) return;
    this.count(context, res);
    if (!this.debug && context.loggedInRun(res.statusCode)) return;
    const slug = slugOf(res.req.path);
    if (slug === null) return;
    this.finished(context, res, slug).catch((error: unknown) =>
      this.logger.warn(
        about(
          { requestId: context.requestId },
          `Could not log a webhook delivery to ${slug}: ${(error as Error).message}`,
        ),
      ),
    );
  }

  // Synchronous, from what the request already resolved: no lookup per delivery for the metrics.
  private count(context: WebhookRequestContext, res: Response): void {
    const status = res.statusCode;
    let trigger = context.verified?.trigger;
    if (trigger === undefined) {
      const slug = slugOf(res.req.path);
      trigger = (slug === null ? undefined : this.triggers.cached(slug)) ?? undefined;
    }
    this.metrics.delivery(
      trigger?.scheme.name ?? 'unknown',
      context.outcomeOf(status),
      status >= 400 ? context.errorCode : null,
      (performance.now() - context.receivedAtMonotonic) / 1000,
    );
  }

  private async finished(context: WebhookRequestContext, res: Response, slug: string): Promise<void> {
    const trigger = context.verified?.trigger ?? (await this.triggers.get(slug));
    if (!trigger) return;
    const delivery = context.toDelivery(res, trigger);
    if (!context.loggedInRun(delivery.statusCode)) this.recorder.record(delivery);
    if (this.debug) {
      const { id, outcome, statusCode, errorCode, runId, requestId } = delivery;
      this.logger.debug(
        `Delivery ${id} to trigger ${trigger.id}: ${outcome} ${statusCode}${errorCode ? ` ${errorCode}` : ''}` +
          `${runId ? ` run ${runId}` : ''} (request ${requestId})`,
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
