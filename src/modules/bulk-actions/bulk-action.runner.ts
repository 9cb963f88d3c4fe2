import { Injectable, type OnModuleDestroy } from '@nestjs/common';

import { RunCommandsService, type RunCommand, type RunCommandResult } from '../runs/run-commands.service.js';
import { BulkActionsRepository, type RunOutcome } from './bulk-actions.repository.js';

export const BULK_BATCH_SIZE = 500;

/** Works an action off batch by batch; any number of runners (processes) may work on one action side by side. */
@Injectable()
export class BulkActionRunner implements OnModuleDestroy {
  private stopping = false;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly repository: BulkActionsRepository,
    private readonly commands: RunCommandsService,
  ) {}

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  /** Ends at the next batch boundary; what is left waits for another worker's sweep. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Until no run of the action is left untaken (or this process stops). */
  async runToEnd(id: string, batchSize = BULK_BATCH_SIZE): Promise<void> {
    const action = await this.repository.findById(id);
    if (!action || action.status === 'completed') return;
    while (!this.stopping) {
      const step = this.step(id, action.action, batchSize);
      this.inFlight.add(step);
      const more = await step.finally(() => this.inFlight.delete(step));
      if (!more) return;
    }
  }

  private async step(id: string, command: RunCommand, batchSize: number): Promise<boolean> {
    const batch = await this.repository.processBatch<RunCommandResult>(id, batchSize, async (runIds, tx) => {
      const applied = await this.commands.apply(command, runIds, tx);
      return { outcomes: runIds.map((runId) => outcomeOf(runId, applied)), applied };
    });
    if (!batch) return false;
    await this.commands.afterCommit(command, batch.applied);
    return true;
  }
}

function outcomeOf(runId: string, result: RunCommandResult): RunOutcome {
  const refusal = result.refused.get(runId);
  return { runId, failure: refusal ? { code: refusal.code, reason: refusal.message } : null };
}
