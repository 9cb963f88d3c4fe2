import { Logger, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';

import { AppModule } from './app.module.js';
import { configureApp } from './app.setup.js';
import { createRootLogger, PinoNestLogger } from './common/pino-nest.logger.js';
import type { AppConfig } from './config/app.config.js';
import { runMigrations } from './database/data-source.config.js';
import { runsWorkersEnabled } from './modules/runs/runs-worker.module.js';
import { RunWaitersRegistry } from './modules/runs/run-waiters.registry.js';
import { RunsProcessor } from './modules/runs/runs.processor.js';

export async function createApp(
  config: AppConfig,
  logger: LoggerService = new PinoNestLogger(createRootLogger(config.logLevel)),
): Promise<NestExpressApplication> {
  await runMigrations(config.databaseUrl);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false,
    // Errors reach the caller (which stops what it started) instead of ending the process on the spot.
    abortOnError: false,
    logger,
  });
  configureApp(app, config);
  await app.init();
  return app;
}

/** HTTP requests and runs in flight get SHUTDOWN_TIMEOUT_MS to finish, side by side; runs left are handed back. */
export async function stopApp(app: NestExpressApplication, config: AppConfig): Promise<void> {
  const logger = new Logger('Shutdown');
  const server = app.getHttpServer();
  const http = async () => {
    if (!server.listening) return;
    // Requests waiting for a run (`?wait=`) answer 202 now rather than hold the shutdown for up to 30 s.
    app.get(RunWaitersRegistry).close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
    await closed;
    clearTimeout(timer);
    logger.log('HTTP server closed');
  };
  const workers = async () => {
    if (!runsWorkersEnabled(config)) return;
    await app.get(RunsProcessor).drain(config.shutdownTimeoutMs);
    logger.log('Workers stopped');
  };
  await Promise.all([http(), workers()]);
  await app.close();
}
