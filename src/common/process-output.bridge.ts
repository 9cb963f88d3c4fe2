import { format } from 'node:util';
import type { Logger } from 'pino';

import { flushLogs } from './pino-nest.logger.js';
import { LogFloodGuard, shapeOf } from './log-flood.guard.js';

const CONSOLE_LEVELS = {
  log: 'info',
  info: 'info',
  warn: 'warn',
  error: 'error',
  debug: 'debug',
  trace: 'debug',
} as const;

export interface ProcessOutputBridge {
  guard: LogFloodGuard;
  restore(): void;
}

/**
 * Makes everything the process would print a log line: libraries' `console.*` calls (BullMQ's warnings,
 * ioredis' "Unhandled error event" with its stack), Node's warnings, uncaught exceptions and unhandled
 * rejections. Alike lines are bounded by one flood guard, summed up with a count. `lastWords` writes
 * synchronously: the line before an exit.
 */
export function bridgeProcessOutput(
  logger: Logger,
  options: { burst: number; intervalMs: number },
  lastWords: Logger,
): ProcessOutputBridge {
  const guard = new LogFloodGuard(options, ({ shape, suppressed, intervalMs }) =>
    logger.warn(
      { context: 'LogFloodGuard', repeated: suppressed },
      `${suppressed} more line(s) like this in ${intervalMs / 1000} s were not written: ${shape}`,
    ),
  );
  const original = { ...console };
  for (const [method, level] of Object.entries(CONSOLE_LEVELS)) {
    (console as unknown as Record<string, (...args: unknown[]) => void>)[method] = (...args: unknown[]) => {
      if (!logger.isLevelEnabled(level)) return;
      const message = format(...args);
      if (!guard.allow(shapeOf('console', firstLine(message)))) return;
      logger[level]({ context: 'console' }, message);
    };
  }

  const warningListeners = process.listeners('warning');
  // Node's own listener prints warnings to stderr; this one logs them instead.
  process.removeAllListeners('warning');
  const onWarning = (warning: Error) => {
    if (guard.allow(shapeOf('warning', warning.message))) {
      logger.warn({ context: 'process', warning: warning.name }, warning.message);
    }
  };
  const onRejection = (reason: unknown) => {
    const message = reason instanceof Error ? `${reason.name}: ${reason.message}` : format(reason);
    if (!guard.allow(shapeOf('unhandledRejection', message))) return;
    logger.error({ context: 'process', err: reason }, `Unhandled promise rejection: ${message}`);
  };
  // State after an uncaught exception is unknown: log it as one line and stop, as Node would.
  const onException = (error: Error) => {
    flushLogs();
    lastWords.fatal(
      { context: 'process', err: error },
      `Uncaught exception, stopping: ${error.name}: ${error.message}`,
    );
    process.exit(1);
  };
  process.on('warning', onWarning);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);

  return {
    guard,
    restore: () => {
      Object.assign(console, original);
      process.off('warning', onWarning);
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
      for (const listener of warningListeners) process.on('warning', listener);
      guard.stop();
    },
  };
}

function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end === -1 ? text : text.slice(0, end);
}
