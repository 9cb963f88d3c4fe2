import { describe, expect, it } from '@jest/globals';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';

import { AuthenticationError } from '../../common/domain.error.js';
import { ApiKeyGuard } from './api-key.guard.js';
import type { ApiKeysService } from './api-keys.service.js';
import { Public } from './public.decorator.js';

class Closed {
  route(): void {}
}

@Public()
class OpenController {
  route(): void {}
}

class OneOpenRoute {
  @Public()
  open(): void {}
  closed(): void {}
}

/** A guard whose key check accepts only `Bearer good`, and records what it was asked. */
function guardWithKeys() {
  const asked: (string | undefined)[] = [];
  const apiKeys = {
    authenticate: (authorization: string | undefined) => {
      asked.push(authorization);
      return authorization === 'Bearer good'
        ? Promise.resolve({ apiKeyId: 'k' })
        : Promise.reject(new AuthenticationError('unauthorized', 'Unknown API key'));
    },
  } as unknown as ApiKeysService;
  return { guard: new ApiKeyGuard(apiKeys, new Reflector()), asked };
}

function contextFor(controller: new () => object, handler: string, authorization?: string) {
  const req = { headers: authorization === undefined ? {} : { authorization } };
  const method = (controller.prototype as Record<string, () => void>)[handler];
  return new ExecutionContextHost([req, {}, () => undefined], controller as never, method);
}

describe('ApiKeyGuard', () => {
  it('asks for a key on every route not marked @Public()', async () => {
    const { guard, asked } = guardWithKeys();
    await expect(guard.canActivate(contextFor(Closed, 'route'))).rejects.toBeInstanceOf(AuthenticationError);
    await expect(guard.canActivate(contextFor(OneOpenRoute, 'closed', 'Bearer bad'))).rejects.toBeInstanceOf(
      AuthenticationError,
    );
    await expect(guard.canActivate(contextFor(Closed, 'route', 'Bearer good'))).resolves.toBe(true);
    expect(asked).toEqual([undefined, 'Bearer bad', 'Bearer good']);
  });

  it('lets @Public() controllers and routes through at once, with a plain true and no key check', () => {
    const { guard, asked } = guardWithKeys();
    expect(guard.canActivate(contextFor(OpenController, 'route'))).toBe(true);
    expect(guard.canActivate(contextFor(OneOpenRoute, 'open', 'Bearer bad'))).toBe(true);
    expect(asked).toEqual([]);
  });
});
