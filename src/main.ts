import { Logger } from '@nestjs/common';

import { createApp, stopApp } from './bootstrap.js';
import { ConfigError, loadConfig } from './config/app-config.js';

/** `node dist/main.js [api|worker|all]` (or HOOKRUN_ROLE): the API, the workers, or both (default). */
async function main(): Promise<void> {
  const config = loadConfig(process.env, process.argv[2]);
  const logger = new Logger('hookrun');
  const app = await createApp(config, { worker: config.role !== 'api' });
  await app.listen(config.port, config.host);
  logger.log(
    config.role === 'worker'
      ? `Worker running (health on ${config.publicBaseUrl}/health/ready)`
      : `Listening on ${config.publicBaseUrl} (API docs: ${config.publicBaseUrl}/docs), role ${config.role}`,
  );

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: shutting down`);
    // Whatever hangs, the process ends: a supervisor restarts it and the runs resume from PostgreSQL.
    setTimeout(() => process.exit(1), config.shutdownTimeoutMs * 2 + 5000).unref();
    stopApp(app, config).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(`Shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
