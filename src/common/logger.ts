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

const destinations: { flushSync(): void }[] = [];

export function createRootLogger(level: string): Logger {
  // Asynchronous writes keep logging off the request path; flushLogs() empties the buffer before exit.
  const destination = pino.destination({ sync: false });
  destinations.push(destination);
  return pino(
    { level, base: { service: 'hookrun' }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    destination,
  );
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
