import type { LoggerService } from '@nestjs/common';
import { pino, type Logger } from 'pino';

/**
 * Header and field names whose values never reach a log line. hookrun logs no request headers, but a
 * header logged by mistake (or by a library) is censored here: credentials and every scheme's
 * signature. The `token` scheme's header is configurable, so it cannot be listed; the patterns below
 * catch generated tokens wherever they appear.
 */
export const REDACTED_PATHS = [
  ...[
    'authorization',
    'proxy-authorization',
    'cookie',
    'set-cookie',
    'x-api-key',
    'webhook-signature',
    'svix-signature',
    'x-hub-signature',
    'x-hub-signature-256',
    'stripe-signature',
    'x-slack-signature',
    'x-shopify-hmac-sha256',
  ].flatMap((name) => [`req.headers["${name}"]`, `headers["${name}"]`, `*.headers["${name}"]`]),
  'secret',
  'key',
  'token',
  '*.secret',
  '*.key',
  '*.token',
];

export const REDACTED = '[redacted]';

/**
 * Secrets recognisable by their shape, replaced in every log line whatever field, message or stack
 * trace carries them: signing secrets and keys (`whsec_`, `whpk_`, `whsk_`), API keys (`hr_`),
 * credentials after `Bearer`/`Basic`, and signature values as the schemes send them. The characters
 * matched never include `"` or `\`, so a serialised JSON line stays valid JSON. No word boundaries:
 * in a JSON line a secret may follow an escape such as `\n`, whose `n` would hide it from `\b`.
 */
const SECRET_PATTERNS: [RegExp, string][] = [
  [/wh(?:sec|pk|sk)_[A-Za-z0-9+/=_-]+/g, REDACTED],
  [/hr_[A-Za-z0-9_-]{6,}/g, REDACTED],
  [/(Bearer|bearer|Basic) +[A-Za-z0-9._~+/=-]+/g, `$1 ${REDACTED}`],
  // sha256=<hex> (GitHub, generic), v0=<hex> (Slack), v1=<hex> (Stripe).
  [/(sha256|v0|v1)=[0-9a-fA-F]{64}/g, `$1=${REDACTED}`],
  // v1,<base64> and v1a,<base64> (Standard Webhooks).
  [/(v1a?),[A-Za-z0-9+/]{43,}={0,2}/g, `$1,${REDACTED}`],
];

/** The text with every secret-shaped substring replaced by `[redacted]`. */
export function scrubSecrets(text: string): string {
  let scrubbed = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) scrubbed = scrubbed.replace(pattern, replacement);
  return scrubbed;
}

/** Where log lines go: pino's fast destination, or anything else that takes strings (tests). */
export interface LogDestination {
  write(line: string): unknown;
  flushSync?(): void;
}

const destinations: { flushSync(): void }[] = [];

export function createRootLogger(level: string, destination?: LogDestination): Logger {
  // Asynchronous writes keep logging off the request path; flushLogs() empties the buffer before exit.
  const target = destination ?? pino.destination({ sync: false });
  if (target.flushSync) destinations.push(target as { flushSync(): void });
  // Scrubbing the finished line, not fields one by one, reaches what formatters do not: the message,
  // error messages and stacks (serialised after the formatters run) and child bindings.
  const scrubbing = { write: (line: string) => target.write(scrubSecrets(line)) };
  return pino({ level, base: { service: 'hookrun' }, redact: { paths: REDACTED_PATHS, censor: REDACTED } }, scrubbing);
}

/** Writes out buffered log lines; call it before process.exit. */
export function flushLogs(): void {
  for (const destination of destinations) {
    try {
      destination.flushSync();
    } catch {
      // Nothing was buffered, or the stream is closed.
    }
  }
}

/** Lets Nest's own logging (boot, route table, uncaught errors) go through pino. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.info({ context }, stringify(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error(
      { context, trace: trace ?? (message instanceof Error ? message.stack : undefined) },
      stringify(message),
    );
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, stringify(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, stringify(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, stringify(message));
  }
}

function stringify(message: unknown): string {
  if (typeof message === 'string') return message;
  if (message instanceof Error) return `${message.name}: ${message.message}`;
  return JSON.stringify(message);
}

export const ROOT_LOGGER = Symbol('ROOT_LOGGER');
