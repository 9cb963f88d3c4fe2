import { WorkerHost } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';

import { BulkActionRunner } from './bulk-action.runner.js';
import type { BulkActionJobData } from './bulk-actions.queue.js';

/** The bulk actions queue's worker (BulkActionsWorkerModule declares it with its options). */
@Injectable()
export class BulkActionsProcessor extends WorkerHost {
  constructor(private readonly runner: BulkActionRunner) {
    super();
  }

  async process(job: Job<BulkActionJobData>): Promise<void> {
    await this.runner.runToEnd(job.data.bulkActionId);
  }
}
