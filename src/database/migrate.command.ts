/** `npm run migration:run`: applies pending migrations to DATABASE_URL and exits. */
import { ConfigError, loadDatabaseUrl } from '../config/app.config.js';
import { runMigrations } from './data-source.config.js';

let url: string;
try {
  url = loadDatabaseUrl(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
const applied = await runMigrations(url);
console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'No pending migrations');
