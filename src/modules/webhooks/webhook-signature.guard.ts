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

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    req.verifiedWebhook = await this.verification.verify(String(req.params.slug), req.headers, rawBodyOf(req));
    return true;
  }
}

export function rawBodyOf(req: Request): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}
