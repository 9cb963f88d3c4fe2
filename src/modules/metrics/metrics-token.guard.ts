import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';

import { AuthenticationError } from '../../common/domain.error.js';
import { APP_CONFIG, type AppConfig } from '../../config/app.config.js';

/** Whether `authorization` is `Bearer <token>`; digests compared, so that neither the length nor a prefix leaks. */
export function bearerMatches(authorization: string | undefined, expectedDigest: Buffer): boolean {
  const match = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
  if (!match) return false;
  return timingSafeEqual(createHash('sha256').update(match[1]).digest(), expectedDigest);
}

/** `/metrics` is public (no API key: scrapers hold none) unless METRICS_TOKEN is set. */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly digest: Buffer | null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.digest = config.metricsToken === null ? null : createHash('sha256').update(config.metricsToken).digest();
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.digest === null) return true;
    const req = context.switchToHttp().getRequest<Request>();
    if (bearerMatches(req.headers.authorization, this.digest)) return true;
    throw new AuthenticationError(
      'unauthorized',
      'Missing or wrong metrics token: send Authorization: Bearer <METRICS_TOKEN>',
    );
  }
}
