/** `npm run migration:run`: applies pending migrations to DATABASE_URL and exits. */
import { runMigrations } from './data-source.config.js';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is required');
  process.exit(1);
}
const applied = await runMigrations(url);
console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'No pending migrations');
