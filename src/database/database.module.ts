import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import pg from 'pg';

import type { AppConfig } from '../config/app.config.js';
import { dataSourceOptions } from './data-source.config.js';
import { DATABASE_TIMEOUTS } from './database-timeouts.config.js';

/** The pg pool of the hot paths (ingest, the worker's claims and checkpoints, the delivery log). */
export const PG_POOL = Symbol('PG_POOL');

const HOT_PATH_POOL_SIZE = 20;
const TYPEORM_POOL_SIZE = 10;

@Injectable()
class PgPoolLifecycle implements OnApplicationShutdown {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /** After every module's own shutdown, which may still write (the delivery log's last rows). */
  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}

@Global()
@Module({})
export class DatabaseModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [TypeOrmModule.forRoot(dataSourceOptions(config.databaseUrl, TYPEORM_POOL_SIZE))],
      providers: [{ provide: PG_POOL, useFactory: () => createPool(config.databaseUrl) }, PgPoolLifecycle],
      exports: [PG_POOL],
    };
  }
}

function createPool(databaseUrl: string): pg.Pool {
  const logger = new Logger('Database');
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: HOT_PATH_POOL_SIZE,
    application_name: 'hookrun',
    ...DATABASE_TIMEOUTS,
  });
  // An idle connection that breaks is dropped by the pool; without a listener the error would end the process.
  pool.on('error', (error) => logger.warn(`A pooled PostgreSQL connection failed: ${error.message}`));
  return pool;
}
