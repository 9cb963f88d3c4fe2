import { ValidationError } from './domain.error.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The `Idempotency-Key` header, checked; null when absent. */
export function checkIdempotencyKey(value: string | undefined): string | null {
  if (value === undefined) return null;
  if (!IDEMPOTENCY_KEY.test(value)) {
    const message = 'must be 1 to 255 printable ASCII characters without spaces';
    throw new ValidationError(`Idempotency-Key: ${message}`, [{ field: 'Idempotency-Key', message }]);
  }
  return value;
}
