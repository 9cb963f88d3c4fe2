import { Injectable, Optional } from '@nestjs/common';

import { RunsProcessor } from './runs.processor.js';

/** The workers of this process, if it runs any: what shutdown drains. */
@Injectable()
export class RunsWorkers {
  constructor(@Optional() private readonly processor?: RunsProcessor) {}

  get running(): boolean {
    return this.processor !== undefined;
  }

  async drain(timeoutMs: number): Promise<void> {
    await this.processor?.drain(timeoutMs);
  }
}
