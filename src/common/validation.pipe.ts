import { type ArgumentMetadata, ValidationPipe, type ValidationError as ClassValidatorError } from '@nestjs/common';

import { InvalidInputError, ValidationError, type ValidationDetail } from './domain.error.js';

// class-transformer's recursion overflows the stack past about a thousand levels.
export const MAX_BODY_DEPTH = 256;

export function createValidationPipe(): ValidationPipe {
  return new DepthLimitedValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => {
      const details = flatten(errors);
      return new ValidationError(
        details.map((d) => `${d.field}: ${d.message}`).join('; ') || 'Invalid request',
        details,
      );
    },
  });
}

class DepthLimitedValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && nestedDeeperThan(value, MAX_BODY_DEPTH)) {
      throw new InvalidInputError('invalid_json', `Body is nested deeper than ${MAX_BODY_DEPTH} levels`);
    }
    return super.transform(value, metadata) as Promise<unknown>;
  }
}

// Its own stack, so that a hostile body cannot overflow the call stack here either.
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [node, level] = next;
    if (node === null || typeof node !== 'object') continue;
    if (level > limit) return true;
    for (const child of Object.values(node)) {
      if (child !== null && typeof child === 'object') pending.push([child, level + 1]);
    }
  }
  return false;
}

function flatten(errors: ClassValidatorError[], parent = ''): ValidationDetail[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}
