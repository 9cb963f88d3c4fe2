import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';

import { WebhookVerificationService, type VerifiedWebhook } from './webhook-verification.service.js';

declare module 'http' {
  interface IncomingMessage {
    verifiedWebhook?: VerifiedWebhook;
  }
}

/** Lets a webhook through only when its signature verifies; hands the verified delivery to the controller. */
@Injectable()
export class WebhookSignatureGuard implements CanActivate {
  constructor(private readonly verification: WebhookVerificationService) {}

  /** Without a promise when the trigger is cached, so that Nest need not await the guard. */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const verified = this.verification.verify(String(req.params.slug), req.headers, rawBodyOf(req));
    if (verified instanceof Promise) {
      return verified.then((webhook) => {
        req.verifiedWebhook = webhook;
        return true;
      });
    }
    req.verifiedWebhook = verified;
    return true;
  }
}

export function rawBodyOf(req: Request): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}
