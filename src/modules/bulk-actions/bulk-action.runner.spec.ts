import { describe, expect, it } from '@jest/globals';
import type { EntityManager } from 'typeorm';

import { ConflictError, NotFoundError } from '../../common/domain.error.js';
import type { RunCommand, RunCommandResult, RunCommandsService } from '../runs/run-commands.service.js';
import { BulkActionRunner } from './bulk-action.runner.js';
import type { BulkAction } from './bulk-action.entity.js';
import type { Batch, BulkActionsRepository, RunOutcome } from './bulk-actions.repository.js';

/** A repository holding `pending` run ids in memory, handing them out `size` at a time. */
function harness(pending: string[], status: BulkAction['status'] = 'queued') {
  const recorded: RunOutcome[][] = [];
  const afterCommits: RunCommandResult[] = [];
  const repository = {
    findById: (id: string) => Promise.resolve({ id, action: 'retry', status } as BulkAction),
    processBatch: async <T>(
      _id: string,
      size: number,
      apply: (ids: string[], tx: EntityManager) => Promise<{ outcomes: RunOutcome[]; applied: T }>,
    ): Promise<Batch<T>> => {
      const taken = pending.splice(0, size);
      if (taken.length === 0) return null;
      const result = await apply(taken, {} as EntityManager);
      recorded.push(result.outcomes);
      return result;
    },
  } as unknown as BulkActionsRepository;
  const commands = {
    apply: (_command: RunCommand, ids: string[]) =>
      Promise.resolve({
        applied: ids.filter((id) => id.startsWith('failed')),
        refused: new Map(
          ids
            .filter((id) => !id.startsWith('failed'))
            .map((id) => [
              id,
              id === 'gone'
                ? new NotFoundError('run', id)
                : new ConflictError('run_not_failed', 'Only failed runs can be retried'),
            ]),
        ),
        newRuns: new Map(),
      }),
    afterCommit: (_command: RunCommand, result: RunCommandResult) => {
      afterCommits.push(result);
      return Promise.resolve();
    },
  } as unknown as RunCommandsService;
  return { runner: new BulkActionRunner(repository, commands), recorded, afterCommits, pending };
}

describe('BulkActionRunner', () => {
  it('works the action off in batches, recording a refused run with the code and message of its single-run error', async () => {
    const h = harness(['failed-1', 'completed-1', 'failed-2', 'gone', 'failed-3']);
    await h.runner.runToEnd('bulk-1', 2);
    expect(h.recorded).toEqual([
      [
        { runId: 'failed-1', failure: null },
        { runId: 'completed-1', failure: { code: 'run_not_failed', reason: 'Only failed runs can be retried' } },
      ],
      [
        { runId: 'failed-2', failure: null },
        { runId: 'gone', failure: { code: 'run_not_found', reason: 'Run gone not found' } },
      ],
      [{ runId: 'failed-3', failure: null }],
    ]);
    // The queue calls come after each batch's commit, with what that batch applied.
    expect(h.afterCommits.map((r) => r.applied)).toEqual([['failed-1'], ['failed-2'], ['failed-3']]);
  });

  it('leaves a completed action alone', async () => {
    const h = harness(['failed-1'], 'completed');
    await h.runner.runToEnd('bulk-1');
    expect(h.recorded).toEqual([]);
  });

  it('stops at a batch boundary once stopped, leaving the rest in the database', async () => {
    const h = harness(['failed-1', 'failed-2', 'failed-3']);
    await h.runner.stop();
    await h.runner.runToEnd('bulk-1', 1);
    expect(h.recorded).toEqual([]);
    expect(h.pending).toHaveLength(3);
  });
});
