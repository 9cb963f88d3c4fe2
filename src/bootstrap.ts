import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';

import { AppModule, type AppModuleOptions } from './app.module.js';
import { createRootLogger, PinoNestLogger } from './common/logger.js';
import type { AppConfig } from './config/app-config.js';
import { configureApp } from './configure-app.js';
import { runMigrations } from './database/data-source.js';

/** Migrates the database, then builds and configures the application; main.ts and the e2e tests share it. */
export async function createApp(
  config: AppConfig,
  options: AppModuleOptions = { worker: true },
): Promise<NestExpressApplication> {
  await runMigrations(config.databaseUrl);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, options), {
    bodyParser: false,
    logger: new PinoNestLogger(createRootLogger(config.logLevel)),
  });
  configureApp(app, config);
  return app;
}
