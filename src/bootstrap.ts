import { Logger, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';

import { AppModule, type AppModuleOptions } from './app.module.js';
import { createRootLogger, PinoNestLogger } from './common/pino-nest.logger.js';
import type { AppConfig } from './config/app.config.js';
import { configureApp, routeWebhooksFirst } from './configure-app.js';
import { runMigrations } from './database/data-source.config.js';
import { RunsWorkers } from './modules/runs/runs-workers.js';

/** Migrates the database, then builds, configures and initialises the application; main.ts and the e2e tests share it. */
export async function createApp(
  config: AppConfig,
  options: AppModuleOptions = { worker: true },
  logger: LoggerService = new PinoNestLogger(createRootLogger(config.logLevel)),
): Promise<NestExpressApplication> {
  await runMigrations(config.databaseUrl);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, options), {
    bodyParser: false,
    // Errors reach the caller (which stops what it started) instead of ending the process on the spot.
    abortOnError: false,
    logger,
  });
  configureApp(app, config);
  // Initialised here rather than by listen(), so that the webhook route can be put first once it exists.
  await app.init();
  routeWebhooksFirst(app);
  return app;
}

/**
 * Graceful shutdown: stop taking HTTP requests and answer those in flight, and at the same time stop
 * taking jobs and let running ones finish, both for at most SHUTDOWN_TIMEOUT_MS; runs still going then
 * are handed back to the queue. Then close connections. The caller stops anything it started before
 * (an embedded database) after this returns.
 */
export async function stopApp(app: NestExpressApplication, config: AppConfig): Promise<void> {
  const logger = new Logger('Shutdown');
  const server = app.getHttpServer();
  const http = async () => {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
    await closed;
    clearTimeout(timer);
    logger.log('HTTP server closed');
  };
  const workers = async () => {
    const runsWorkers = app.get(RunsWorkers, { strict: false });
    if (!runsWorkers.running) return;
    await runsWorkers.drain(config.shutdownTimeoutMs);
    logger.log('Workers stopped');
  };
  await Promise.all([http(), workers()]);
  await app.close();
}
