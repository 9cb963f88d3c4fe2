import { ValidationPipe, type ValidationError as ClassValidatorError } from '@nestjs/common';

import { ValidationError, type ValidationDetail } from './errors.js';

/** class-validator DTO checks; failures become `400 validation_failed` with one detail per problem. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
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

function flatten(errors: ClassValidatorError[], parent = ''): ValidationDetail[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}
