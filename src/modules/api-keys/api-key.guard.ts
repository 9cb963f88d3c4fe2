import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';

import { ApiKeysService } from './api-keys.service.js';
import { IS_PUBLIC } from './public.decorator.js';

/** Deny by default: forgetting `@Public()` closes a route rather than opens it. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly apiKeys: ApiKeysService,
    private readonly reflector: Reflector,
  ) {}

  private readonly publicHandlers = new WeakMap<object, boolean>();

  /** A plain `true` for public routes, so that Nest need not await this guard on the webhook path. */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const handler = context.getHandler();
    let isPublic = this.publicHandlers.get(handler);
    if (isPublic === undefined) {
      isPublic =
        this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, [handler, context.getClass()]) === true;
      this.publicHandlers.set(handler, isPublic);
    }
    if (isPublic) return true;
    const req = context.switchToHttp().getRequest<Request>();
    return this.apiKeys.authenticate(req.headers.authorization).then(() => true);
  }
}
