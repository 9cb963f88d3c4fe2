import { Logger } from '@nestjs/common';

import { createApp } from './bootstrap.js';
import { ConfigError, loadConfig } from './config/app-config.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config, { worker: config.role !== 'api' });
  await app.listen(config.port, config.host);
  new Logger('hookrun').log(`Listening on ${config.publicBaseUrl} (API docs: ${config.publicBaseUrl}/docs)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
