import { hash } from 'node:crypto';

import type { Request, Response } from 'express';

import { newIdAt } from '../../common/ids.util.js';
import { RequestContext } from '../../common/request.context.js';
import type { DeliveryOutcome, WebhookDelivery } from './deliveries/webhook-delivery.entity.js';
import type { VerifiedWebhook } from './webhook-verification.service.js';

// Filled along the request (middleware, guard, controller, exception filter); `toDelivery` makes the log row.
export class WebhookRequestContext extends RequestContext {
  verified: VerifiedWebhook | undefined = undefined;
  run: { id: string; replayed: boolean } | undefined = undefined;
  /** The trigger's filter was not truthy for the delivery. */
  filtered = false;
  /** For the ingest latency metric: monotonic, sub-millisecond. */
  readonly receivedAtMonotonic = performance.now();

  constructor(
    requestId: string,
    readonly receivedAtMs: number,
  ) {
    super(requestId);
  }

  static override of(req: Request): WebhookRequestContext | undefined {
    const context = RequestContext.of(req);
    return context instanceof WebhookRequestContext ? context : undefined;
  }

  static for(req: Request): WebhookRequestContext {
    return (
      WebhookRequestContext.of(req) ??
      new WebhookRequestContext(RequestContext.of(req)?.requestId ?? '', Date.now()).attachTo(req)
    );
  }

  /** One row per accepted webhook, not two: the run's. */
  loggedInRun(status: number): boolean {
    return this.acceptedWith(status) && this.run !== undefined && !this.run.replayed;
  }

  // `run_failed` (502) answers a delivery that was accepted and whose run then failed while the sender waited.
  private acceptedWith(status: number): boolean {
    return status < 300 || this.errorCode === 'run_failed';
  }

  /** What the delivery log and the metrics call the answer `status`. */
  outcomeOf(status: number): DeliveryOutcome {
    const accepted = this.acceptedWith(status);
    return outcomeOf(accepted, accepted ? this.run : undefined, this.filtered, this.errorCode);
  }

  toDelivery(res: Response, trigger: { id: string; workflowId: string }): WebhookDelivery {
    const status = res.statusCode;
    const run = this.acceptedWith(status) ? this.run : undefined;
    const outcome = this.outcomeOf(status);
    const req = res.req;
    const body = Buffer.isBuffer(req.body) ? req.body : null;
    return {
      id: this.loggedInRun(status) ? run!.id : newIdAt(this.receivedAtMs),
      triggerId: trigger.id,
      workflowId: trigger.workflowId,
      receivedAt: new Date(this.receivedAtMs),
      outcome,
      statusCode: status,
      errorCode: status >= 400 ? (this.errorCode ?? null) : null,
      bodyBytes: body ? body.length : declaredLength(req),
      bodySha256: body ? hash('sha256', body, 'hex') : null,
      deliveryId: this.verified?.deliveryId ?? null,
      runId: run?.id ?? null,
      requestId: this.requestId,
      reason: outcome === 'filter_failed' ? (this.errorReason ?? null) : null,
    };
  }
}

function outcomeOf(
  accepted: boolean,
  run: { replayed: boolean } | undefined,
  filtered: boolean,
  errorCode: string | undefined,
): DeliveryOutcome {
  if (!accepted) return errorCode === 'filter_failed' ? 'filter_failed' : 'rejected';
  if (filtered) return 'filtered';
  // A 2xx without a run is Slack's URL verification handshake: accepted, though it starts nothing.
  return run?.replayed ? 'replayed' : 'accepted';
}

function declaredLength(req: Request): number | null {
  const header = req.headers['content-length'];
  return header !== undefined && /^\d{1,15}$/.test(header) ? Number(header) : null;
}
