import type { LoggerService } from '@nestjs/common';
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

import type { LogFormat } from '../config/app.config.js';
import { isLogEntry, type LogFields } from './log.context.js';
import { shapeOf, type LogFloodGuard } from './log-flood.guard.js';

// hookrun logs no request headers; these are censored in case one is logged by mistake or by a library.
const REDACTED_PATHS = [
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

// Never matching `"` or `\` keeps a JSON line valid. No `\b`: after an escape such as `\n`, the `n` would hide a secret.
const SECRET_PATTERNS: [RegExp, string][] = [
  [/wh(?:sec|pk|sk)_[A-Za-z0-9+/=_-]+/g, REDACTED],
  [/hr_[A-Za-z0-9_-]{6,}/g, REDACTED],
  [/(Bearer|bearer|Basic) +[A-Za-z0-9._~+/=-]+/g, `$1 ${REDACTED}`],
  [/(sha256|v0|v1)=[0-9a-fA-F]{64}/g, `$1=${REDACTED}`],
  [/(v1a?),[A-Za-z0-9+/]{43,}={0,2}/g, `$1,${REDACTED}`],
];

export function scrubSecrets(text: string): string {
  let scrubbed = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) scrubbed = scrubbed.replace(pattern, replacement);
  return scrubbed;
}

export interface LogDestination {
  write(line: string): unknown;
  flushSync?(): void;
}

const destinations: { flushSync(): void }[] = [];

/**
 * `sync`: each line is written before the call returns, for the last lines before an exit (an asynchronous
 * write still in flight when the process exits is lost).
 */
export function createRootLogger(
  level: string,
  destination?: LogDestination,
  format: LogFormat = 'json',
  sync = false,
): Logger {
  // Asynchronous writes keep logging off the request path; flushLogs() empties the buffer before exit.
  const target = destination ?? (format === 'pretty' ? prettyDestination() : pino.destination({ sync }));
  if (target.flushSync) destinations.push(target as { flushSync(): void });
  // The finished line, not fields: error stacks and child bindings are serialised after the formatters run.
  const scrubbing = { write: (line: string) => target.write(scrubSecrets(line)) };
  return pino(
    {
      level,
      base: { service: 'hookrun' },
      redact: { paths: REDACTED_PATHS, censor: REDACTED },
    },
    scrubbing,
  );
}

/** For a person at a terminal: one coloured line per entry, the ids and other fields indented below. */
function prettyDestination(): LogDestination {
  return pretty({
    colorize: process.stdout.isTTY === true,
    ignore: 'pid,hostname,service',
    messageFormat: '{if context}[{context}] {end}{msg}',
    translateTime: 'SYS:HH:MM:ss.l',
    sync: true,
  });
}

export function flushLogs(): void {
  for (const destination of destinations) {
    try {
      destination.flushSync();
    } catch {
      // A closed stream has nothing left to flush.
    }
  }
}

/** Nest's logger on pino; warnings and errors of one shape are bounded by the flood guard, when given one. */
export class PinoNestLogger implements LoggerService {
  constructor(
    private readonly logger: Logger,
    private readonly guard?: LogFloodGuard,
  ) {}

  private allowed(text: string, context: string | undefined): boolean {
    return !this.guard || this.guard.allow(shapeOf(context ?? 'app', text));
  }

  log(message: unknown, context?: string): void {
    const [fields, text] = split(message);
    this.logger.info({ context, ...fields }, text);
  }
  error(message: unknown, trace?: string, context?: string): void {
    const [fields, text] = split(message);
    if (!this.allowed(text, context)) return;
    this.logger.error(
      { context, ...fields, trace: trace ?? (message instanceof Error ? message.stack : undefined) },
      text,
    );
  }
  warn(message: unknown, context?: string): void {
    const [fields, text] = split(message);
    if (!this.allowed(text, context)) return;
    this.logger.warn({ context, ...fields }, text);
  }
  debug(message: unknown, context?: string): void {
    const [fields, text] = split(message);
    this.logger.debug({ context, ...fields }, text);
  }
  verbose(message: unknown, context?: string): void {
    const [fields, text] = split(message);
    this.logger.trace({ context, ...fields }, text);
  }
}

/** The ids of a `LogEntry` become fields of the line; anything else is only text. */
function split(message: unknown): [LogFields, string] {
  if (!isLogEntry(message)) return [{}, stringify(message)];
  const { msg, runId, workflowId, requestId } = message;
  return [{ runId, workflowId, requestId }, msg];
}

function stringify(message: unknown): string {
  if (typeof message === 'string') return message;
  if (message instanceof Error) return `${message.name}: ${message.message}`;
  return JSON.stringify(message);
}
