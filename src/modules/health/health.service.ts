import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';

import { UnavailableError } from '../../common/errors.js';
import { RUNS_QUEUE } from '../runs/runs.queue.js';
import type { HealthResponse } from './health.dto.js';

/** Both checks run at once, so that readiness is answered within this, as requests are (a stalled dependency). */
const CHECK_TIMEOUT_MS = 1500;

@Injectable()
export class HealthService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(RUNS_QUEUE) private readonly queue: Queue,
  ) {}

  async ready(): Promise<HealthResponse> {
    const [database, queue] = await Promise.all([
      check(async () => {
        await this.dataSource.query('SELECT 1');
      }),
      check(async () => {
        // A read through the queue's own backend, whichever it is (Redis or PostgreSQL).
        await this.queue.getJobCounts('waiting');
      }),
    ]);
    const down = Object.entries({ database, queue }).filter(([, ok]) => !ok);
    if (down.length > 0) {
      throw new UnavailableError(`Not ready: ${down.map(([name]) => name).join(' and ')} unreachable`, 5);
    }
    return { status: 'ok', checks: { database: 'ok', queue: 'ok' } };
  }
}

async function check(probe: () => Promise<void>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([probe().then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
