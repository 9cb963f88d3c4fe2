import { InvalidInputError } from './domain.error.js';
import { TimeoutError } from './timeout.util.js';

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08006',
  '53300', // too_many_connections
  '57014', // query_canceled: statement_timeout
]);

const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  // pg's client-side query_timeout: the server stalled with the statement in flight.
  'Query read timeout',
];

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    const { code, message, driverError, cause } = e as {
      code?: unknown;
      message?: unknown;
      driverError?: unknown;
      cause?: unknown;
    };
    if (e instanceof TimeoutError) return true;
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((m) => message.includes(m))) return true;
    e = driverError ?? cause;
  }
  return false;
}

const JSON_REFUSALS = new Map<unknown, string>([
  ['22P02', 'Body is not valid JSON'], // invalid_text_representation: the json parser's syntax errors
  ['22P05', 'Input holds JSON that cannot be stored (a \\u0000 in a string)'], // untranslatable_character
  ['22021', 'Body is not valid JSON (a NUL byte)'], // character_not_in_repertoire
  ['22003', 'Input holds a number too large to store'], // numeric_value_out_of_range
  ['54001', 'Input is nested too deeply to store'], // statement_too_complex: stack depth limit exceeded
]);

// Webhook bodies reach PostgreSQL unparsed, and `jsonb` refuses some JSON that JavaScript accepts.
function jsonInputRefusal(error: unknown): string | null {
  const code =
    (error as { driverError?: { code?: unknown }; code?: unknown }).driverError?.code ??
    (error as { code?: unknown }).code;
  return JSON_REFUSALS.get(code) ?? null;
}

export function refusedJsonIsInvalidInput(error: unknown): never {
  const refusal = jsonInputRefusal(error);
  if (refusal !== null) throw new InvalidInputError('invalid_json', refusal);
  throw error;
}
