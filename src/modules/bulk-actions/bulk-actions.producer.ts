import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';

import { withTimeout } from '../../common/timeout.util.js';
import { BULK_ACTION_JOB_OPTIONS, BULK_ACTIONS_QUEUE, type BulkActionJobData } from './bulk-actions.queue.js';

const QUEUE_CALL_TIMEOUT_MS = 500;

@Injectable()
export class BulkActionsProducer {
  private readonly logger = new Logger(BulkActionsProducer.name);

  constructor(@InjectQueue(BULK_ACTIONS_QUEUE) private readonly queue: Queue<BulkActionJobData>) {}

  /** False when the action has to wait for the reconciler's sweep. */
  async enqueue(bulkActionId: string): Promise<boolean> {
    try {
      await withTimeout(
        this.queue.add('bulk-action', { bulkActionId }, { ...BULK_ACTION_JOB_OPTIONS, jobId: bulkActionId }),
        QUEUE_CALL_TIMEOUT_MS,
        'The queue',
      );
      return true;
    } catch (error) {
      this.logger.warn(`Bulk action ${bulkActionId} is stored but could not be enqueued: ${String(error)}`);
      return false;
    }
  }
}
