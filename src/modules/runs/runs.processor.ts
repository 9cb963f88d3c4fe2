import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';

import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { RunExecutor } from './run-executor.js';
import { RUNS_QUEUE, type RunJobData } from './runs.queue.js';

/** The worker side of the runs queue: a job is only a wake-up call for the run it names. */
@Processor(RUNS_QUEUE)
export class RunsProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly executor: RunExecutor,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.workerConcurrency;
  }

  async process(job: Job<RunJobData>): Promise<void> {
    await this.executor.execute(job.data.runId);
  }
}
