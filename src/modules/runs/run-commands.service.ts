import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { ConflictError, DomainError, NotFoundError } from '../../common/domain.error.js';
import { newId } from '../../common/ids.util.js';
import { MetricsRegistry } from '../metrics/metrics.registry.js';
import { WorkflowsService } from '../workflows/workflows.service.js';
import { FlowControlService } from './flow-control.service.js';
import { RunsProducer } from './runs.producer.js';
import { RunsRepository } from './runs.repository.js';

export type RunCommand = 'cancel' | 'retry' | 'rerun';

export interface RunCommandResult {
  /** The runs the command was applied to. */
  applied: string[];
  /** The others, each with the error its single-run endpoint answers. */
  refused: Map<string, DomainError>;
  /** Rerun only: the new run of each applied run. */
  newRuns: Map<string, string>;
}

/**
 * Cancel, retry and rerun of any number of runs, set-based: the single-run endpoints and bulk actions share these
 * rules. Given `tx`, the writes join that transaction; `afterCommit` then does what must wait for its commit.
 */
@Injectable()
export class RunCommandsService {
  constructor(
    private readonly runs: RunsRepository,
    private readonly producer: RunsProducer,
    private readonly workflows: WorkflowsService,
    private readonly flow: FlowControlService,
    private readonly metrics: MetricsRegistry,
  ) {}

  apply(command: RunCommand, ids: string[], tx?: EntityManager): Promise<RunCommandResult> {
    switch (command) {
      case 'cancel':
        return this.cancel(ids, tx);
      case 'retry':
        return this.retry(ids, tx);
      case 'rerun':
        return this.rerun(ids, tx);
    }
  }

  /** Stops runs: at once when they wait in the queue, at the next step boundary (or abort) when running. */
  async cancel(ids: string[], tx?: EntityManager): Promise<RunCommandResult> {
    const now = new Date();
    const cancelled = await this.runs.cancelUnfinished(ids, now, tx);
    // Counted before a bulk action's transaction commits: one that then rolls back (rare) is counted all the same.
    for (const run of cancelled) this.metrics.runEnded(run.workflowId, 'cancelled', run.startedAt, now);
    const applied = cancelled.map((run) => run.id);
    const refused = await this.refusals(
      ids,
      applied,
      tx,
      () => new ConflictError('run_finished', 'Run has already finished'),
    );
    return { applied, refused, newRuns: new Map() };
  }

  /** Failed runs go on from their failed step. */
  async retry(ids: string[], tx?: EntityManager): Promise<RunCommandResult> {
    const applied = await this.runs.reopenFailed(ids, tx);
    const refused = await this.refusals(
      ids,
      applied,
      tx,
      () => new ConflictError('run_not_failed', 'Only failed runs can be retried'),
    );
    return { applied, refused, newRuns: new Map() };
  }

  /** New runs with the same input and workflow version, whatever the status of the runs they re-run. */
  async rerun(ids: string[], tx?: EntityManager): Promise<RunCommandResult> {
    const workflowOf = await this.runs.findWorkflowsOf(ids, tx);
    const refusalOf = new Map<string, DomainError | null>();
    for (const workflowId of new Set(workflowOf.values())) {
      refusalOf.set(workflowId, await this.workflows.findRunnable(workflowId).then(() => null, asDomainError));
    }
    const refused = new Map<string, DomainError>();
    const newRuns = new Map<string, string>();
    for (const id of ids) {
      const workflowId = workflowOf.get(id);
      const refusal = workflowId === undefined ? new NotFoundError('run', id) : refusalOf.get(workflowId);
      if (refusal) refused.set(id, refusal);
      else newRuns.set(id, newId());
    }
    const inserted = await this.runs.insertReruns(
      [...newRuns].map(([rerunOf, id]) => ({ id, rerunOf })),
      tx,
    );
    // Deleted (by retention) between the look-up and the insert.
    for (const id of newRuns.keys()) {
      if (inserted.has(id)) continue;
      newRuns.delete(id);
      refused.set(id, new NotFoundError('run', id));
    }
    return { applied: [...newRuns.keys()], refused, newRuns };
  }

  /** Queue calls, after the commit: a failed enqueue leaves the run to the reconciler. */
  async afterCommit(command: RunCommand, result: RunCommandResult): Promise<void> {
    switch (command) {
      case 'cancel':
        // A cancelled run may have held (or waited ahead in) a concurrency key: the next one waiting goes on.
        await Promise.all(
          result.applied.map(async (id) => {
            await this.producer.discard(id);
            await this.flow.wakeAfterEnd(id);
          }),
        );
        return;
      case 'retry':
        await Promise.all(result.applied.map((id) => this.producer.enqueue(id)));
        return;
      case 'rerun':
        await Promise.all([...result.newRuns.values()].map((id) => this.producer.enqueue(id)));
        return;
    }
  }

  private async refusals(
    ids: string[],
    applied: string[],
    tx: EntityManager | undefined,
    refusal: () => DomainError,
  ): Promise<Map<string, DomainError>> {
    const done = new Set(applied);
    const rest = ids.filter((id) => !done.has(id));
    const existing = await this.runs.findWorkflowsOf(rest, tx);
    return new Map(rest.map((id) => [id, existing.has(id) ? refusal() : new NotFoundError('run', id)]));
  }
}

function asDomainError(error: unknown): DomainError {
  if (error instanceof DomainError) return error;
  throw error;
}
