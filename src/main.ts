#!/usr/bin/env node
import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Logger as PinoLogger } from 'pino';

import { createApp, stopApp } from './app.lifecycle.js';
import { CONSOLE_PATH, consoleDirectory } from './app.setup.js';
import { createRootLogger, flushLogs, PinoNestLogger } from './common/pino-nest.logger.js';
import { bridgeProcessOutput } from './common/process-output.bridge.js';
import { ConfigError, loadConfig, loadStartMode, withFileVariables, type AppConfig } from './config/app.config.js';
import { EmbeddedPostgresError } from './local/embedded-postgres.server.js';
import { startLocalMode, type LocalMode } from './local/local-mode.launcher.js';
import { LocalSecretsError } from './local/local-secrets.store.js';
import { assertRedisKeepsEveryKey, RedisEvictionPolicyError } from './modules/health/redis-eviction-policy.check.js';

// With neither DATABASE_URL nor REDIS_URL, hookrun brings its own PostgreSQL and queues on it.
async function main(): Promise<void> {
  const role = process.argv[2];
  const startMode = loadStartMode(process.env, role, process.stdout.isTTY === true);
  pinoLogger = createRootLogger(startMode.logLevel, undefined, startMode.logFormat);
  lastWords = createRootLogger(startMode.logLevel, undefined, startMode.logFormat, true);
  const bridge = bridgeProcessOutput(pinoLogger, startMode.logRepeat, lastWords);
  const rootLogger = new PinoNestLogger(pinoLogger, bridge.guard);
  Logger.overrideLogger(rootLogger);
  const logger = new Logger('hookrun');
  let local: LocalMode | null = null;
  if (startMode.embedded) {
    const postgresLogger = new Logger('EmbeddedPostgres');
    // With the `_FILE` keys read, so that it generates only the keys that are given neither way.
    local = await startLocalMode(withFileVariables(process.env), (line) => postgresLogger.debug(line));
  }

  let config: AppConfig;
  try {
    config = loadConfig(local?.env ?? process.env, { role, queueBackend: local ? 'postgres' : 'redis' });
  } catch (error) {
    await local?.stop();
    throw error;
  }
  // Before anything is queued: a Redis that may evict keys would drop jobs silently.
  if (config.queueBackend === 'redis') {
    const unchecked = await assertRedisKeepsEveryKey(config);
    if (unchecked) logger.warn(unchecked);
  }
  const app = await createApp(config, rootLogger).catch(async (error: unknown) => {
    await local?.stop();
    throw error;
  });
  await listen(app, config).catch(async (error: unknown) => {
    await stopApp(app, config).catch((stopError: unknown) => logger.error(`Shutdown failed: ${String(stopError)}`));
    await local?.stop();
    throw error;
  });
  logger.log(
    config.role === 'worker'
      ? `Worker running (health on ${config.publicBaseUrl}/health/ready)`
      : `Listening on ${config.publicBaseUrl} (console: ${config.publicBaseUrl}${CONSOLE_PATH}, API docs: ${config.publicBaseUrl}/docs), role ${config.role}`,
  );
  if (config.role !== 'worker' && !consoleDirectory())
    logger.warn('The console is not built: `npm run build` builds it');
  if (local) announceLocalMode(local, config, startMode.logFormat === 'pretty');

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: shutting down`);
    // Whatever hangs, the process ends: a supervisor restarts it and the runs resume from PostgreSQL.
    setTimeout(() => exit(1, 'Shutdown took too long: exiting'), config.shutdownTimeoutMs * 2 + 5000).unref();
    stopApp(app, config)
      // The embedded database goes last, once nothing uses it.
      .then(() => local?.stop())
      .then(
        () => exit(0, 'hookrun stopped'),
        (error: unknown) => exit(1, `Shutdown failed: ${String(error)}`),
      );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

const LISTEN_PROBLEMS: Record<string, (config: AppConfig) => string> = {
  EADDRINUSE: ({ port, host }) => `PORT ${port} is in use on ${host}`,
  EACCES: ({ port, host }) => `PORT ${port} on ${host} needs privileges this process does not have`,
  EADDRNOTAVAIL: ({ host }) => `HOST ${host} is not an address of this machine`,
};

/** A port that cannot be opened is a configuration problem: it ends the start with one line, not a stack trace. */
async function listen(app: NestExpressApplication, config: AppConfig): Promise<void> {
  try {
    await app.listen(config.port, config.host);
  } catch (error) {
    const problem = LISTEN_PROBLEMS[(error as NodeJS.ErrnoException).code ?? ''];
    throw problem ? new ConfigError(problem(config)) : error;
  }
}

function announceLocalMode(local: LocalMode, config: AppConfig, toTerminal: boolean): void {
  const keyKept = local.apiKeySource === 'data directory';
  if (!toTerminal) {
    // A log line, without the key: logs are collected and kept, the key only in the data directory.
    new Logger('hookrun').log(
      `Embedded PostgreSQL, data in ${local.dataDir}; console ${config.publicBaseUrl}${CONSOLE_PATH}` +
        (keyKept ? `; API key in ${local.dataDir}/local/secrets.json (LOG_FORMAT=pretty prints it)` : ''),
    );
    return;
  }
  const lines = [
    '',
    `  hookrun is running with an embedded PostgreSQL (data in ${local.dataDir})`,
    `  Console:   ${config.publicBaseUrl}${CONSOLE_PATH}`,
    `  API docs:  ${config.publicBaseUrl}/docs`,
  ];
  if (keyKept) {
    lines.push(
      `  API key:   ${config.bootstrapApiKey}`,
      `             (${local.generatedKeys ? 'generated now and kept' : 'kept'} in ${local.dataDir}/local/secrets.json)`,
    );
  }
  // For the person who typed the command: with LOG_FORMAT=pretty the output is for reading, not collecting.
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

/** The last line is written synchronously, after everything logged before it. */
function exit(code: number, lastLine: string): never {
  flushLogs();
  if (code === 0) lastWords?.info({ context: 'hookrun' }, lastLine);
  else lastWords?.error({ context: 'hookrun' }, lastLine);
  process.exit(code);
}

let pinoLogger: PinoLogger | undefined;
let lastWords: PinoLogger | undefined;

main().catch((error: unknown) => {
  const known = [ConfigError, EmbeddedPostgresError, LocalSecretsError, RedisEvictionPolicyError].some(
    (kind) => error instanceof kind,
  );
  flushLogs();
  // A LOG_LEVEL or LOG_FORMAT that is refused leaves no logger: the refusal is a JSON line all the same.
  const logger = lastWords ?? createRootLogger('info', undefined, 'json', true);
  if (known) logger.fatal(`hookrun cannot start: ${(error as Error).message}`);
  else logger.fatal({ err: error }, `hookrun cannot start: ${String(error)}`);
  process.exit(1);
});
