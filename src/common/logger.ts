import type { LoggerService } from '@nestjs/common';
import { pino, type Logger } from 'pino';

/** Header and field names whose values never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["webhook-signature"]',
  'req.headers["svix-signature"]',
  'req.headers["x-hub-signature-256"]',
  'req.headers["stripe-signature"]',
  'secret',
  'key',
  '*.secret',
  '*.key',
];

export function createRootLogger(level: string): Logger {
  return pino(
    { level, base: { service: 'hookrun' }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    // Asynchronous writes keep logging off the request path.
    pino.destination({ sync: false }),
  );
}

/** Lets Nest's own logging (boot, route table, uncaught errors) go through pino. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.info({ context }, stringify(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, stringify(message));
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
  return typeof message === 'string' ? message : JSON.stringify(message);
}

export const ROOT_LOGGER = Symbol('ROOT_LOGGER');
