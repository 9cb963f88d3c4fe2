import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';

import { ApiKeysService } from './api-keys.service.js';

/** Bearer API key for the management API (`/v1/*`). */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly apiKeys: ApiKeysService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    await this.apiKeys.authenticate(req.headers.authorization);
    return true;
  }
}
