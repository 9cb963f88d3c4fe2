import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';

import { WebhookRequestContext } from './webhook-request.context.js';
import { WebhookVerificationService } from './webhook-verification.service.js';

/** Lets a webhook through only when its signature verifies; hands the verified delivery to the controller. */
@Injectable()
export class WebhookSignatureGuard implements CanActivate {
  constructor(private readonly verification: WebhookVerificationService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const verified = await this.verification.verify(String(req.params.slug), req.headers, rawBodyOf(req));
    WebhookRequestContext.for(req).verified = verified;
    return true;
  }
}

export function rawBodyOf(req: Request): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}
