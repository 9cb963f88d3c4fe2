import { Injectable } from '@nestjs/common';
import { newId } from '../../common/ids.util.js';

import { NotFoundError } from '../../common/domain.error.js';
import { REQUEST_DATABASE_TIMEOUT_MS, withTimeout } from '../../common/timeout.util.js';
import { WorkflowsService } from '../workflows/workflows.service.js';
import { toRunResponse, type RunResponse } from './dto/run.dto.js';
import { RunCommandsService, type RunCommand, type RunCommandResult } from './run-commands.service.js';
import { isRunEnded } from './run-status.types.js';
import { RunWaitersRegistry } from './run-waiters.registry.js';
import { RunsProducer } from './runs.producer.js';
import {
  RunsRepository,
  type InsertedRun,
  type RunDelivery,
  type WebhookRunDelivery,
  type WebhookRunDeliveryFilter,
} from './runs.repository.js';
import { WebhookRunsRepository } from './webhook-runs.repository.js';

export interface WebhookRunRequest {
  workflowId: string;
  triggerId: string;
  webhookId: string;
  inputJson: string;
  delivery: RunDelivery;
  /** Epoch ms after which the sender is answered 503 rather than kept waiting for the database. */
  deadline: number;
}

/** `?wait=`: how long a request waits for its run to end. */
export interface RunWait {
  seconds: number;
  /** Aborted when the client goes away: the wait ends then. */
  signal: AbortSignal;
}

@Injectable()
export class RunsService {
  constructor(
    private readonly runs: RunsRepository,
    private readonly webhookRuns: WebhookRunsRepository,
    private readonly producer: RunsProducer,
    private readonly workflows: WorkflowsService,
    private readonly waiters: RunWaitersRegistry,
    private readonly commands: RunCommandsService,
  ) {}

  /** Bounded by the request's deadline and the queue's timeout; a 202 always means a committed run. */
  async startFromWebhook(request: WebhookRunRequest): Promise<InsertedRun> {
    const run = await this.insertWebhookRun(request);
    if (run.created) await this.producer.enqueue(run.id);
    return run;
  }

  /** As startFromWebhook, then waits for the run to end: `ended` is the run when it ended in time. */
  async startFromWebhookAndWait(
    request: WebhookRunRequest,
    wait: RunWait,
  ): Promise<{ run: InsertedRun; ended: RunResponse | null }> {
    const run = await this.insertWebhookRun(request);
    const [ended] = await Promise.all([this.waitForEnd(run, wait), run.created && this.producer.enqueue(run.id)]);
    return { run, ended };
  }

  private insertWebhookRun(request: WebhookRunRequest): Promise<InsertedRun> {
    return this.webhookRuns.insert(
      {
        id: newId(),
        workflowId: request.workflowId,
        triggerId: request.triggerId,
        webhookId: request.webhookId,
        inputJson: request.inputJson,
        delivery: request.delivery,
      },
      request.deadline,
    );
  }

  /** The run an earlier delivery with this id started: a delivery that starts none still answers as its replay. */
  findWebhookRun(triggerId: string, webhookId: string, deadline: number): Promise<InsertedRun | null> {
    return this.webhookRuns.findByDelivery(triggerId, webhookId, deadline);
  }

  /** With `wait`, `ended` says whether the run ended in time (`run` is then as it ended). */
  async startFromApi(
    workflowId: string,
    input: unknown,
    idempotencyKey: string | null,
    wait: RunWait | null = null,
  ): Promise<{ run: RunResponse; replayed: boolean; ended: boolean }> {
    const deadline = Date.now() + REQUEST_DATABASE_TIMEOUT_MS;
    const inserted = await withTimeout(
      this.workflows.findRunnable(workflowId).then((workflow) =>
        this.runs.insertUnlessDuplicate({
          id: newId(),
          workflowId: workflow.id,
          workflowVersion: workflow.version,
          triggerType: 'api',
          idempotencyKey,
          rerunOf: null,
          inputJson: JSON.stringify(input),
        }),
      ),
      REQUEST_DATABASE_TIMEOUT_MS,
      'Starting the run',
    );
    const replayed = !inserted.created;
    if (wait) {
      const [ended] = await Promise.all([
        this.waitForEnd(inserted, wait),
        inserted.created && this.producer.enqueue(inserted.id),
      ]);
      if (ended) return { run: ended, replayed, ended: true };
      const run = await withTimeout(this.get(inserted.id), REQUEST_DATABASE_TIMEOUT_MS, 'Reading the run');
      return { run, replayed, ended: false };
    }
    if (inserted.created) await this.producer.enqueue(inserted.id);
    const run = await withTimeout(this.get(inserted.id), deadline - Date.now(), 'Reading the run');
    return { run, replayed, ended: false };
  }

  /**
   * The run as it ended, or null when it did not end in time. Registers synchronously, before the caller
   * enqueues a new run, so that its end cannot come first; the run of a replay may have ended already and is
   * checked once registered.
   */
  private waitForEnd(run: InsertedRun, wait: RunWait): Promise<RunResponse | null> {
    const deadline = Date.now() + wait.seconds * 1000;
    if (!run.created && isRunEnded(run.status)) return this.endedRun(run.id, Promise.resolve(true), deadline, wait);
    const ended = this.waiters.wait(run.id, {
      timeoutMs: wait.seconds * 1000,
      signal: wait.signal,
      check: !run.created,
    });
    return ended ? this.endedRun(run.id, ended, deadline, wait) : Promise.resolve(null);
  }

  private async endedRun(
    runId: string,
    ended: Promise<boolean>,
    deadline: number,
    wait: RunWait,
  ): Promise<RunResponse | null> {
    while (await ended) {
      const run = await withTimeout(this.get(runId), REQUEST_DATABASE_TIMEOUT_MS, 'Reading the run');
      if (isRunEnded(run.status)) return run;
      // Retried between its end and this read: its next end is the one to wait for.
      const again = this.waiters.wait(runId, { timeoutMs: deadline - Date.now(), signal: wait.signal, check: true });
      if (!again) return null;
      ended = again;
    }
    return null;
  }

  listWebhookDeliveries(filter: WebhookRunDeliveryFilter): Promise<WebhookRunDelivery[]> {
    return this.runs.listWebhookDeliveries(filter);
  }

  async get(id: string): Promise<RunResponse> {
    const run = await this.runs.findWithSteps(id);
    if (!run) throw new NotFoundError('run', id);
    return toRunResponse(run);
  }

  /** Stops a run: at once when it waits in the queue, at the next step boundary when it is running. */
  async cancel(id: string): Promise<RunResponse> {
    await this.command('cancel', id);
    return this.get(id);
  }

  async retry(id: string): Promise<RunResponse> {
    await this.command('retry', id);
    return this.get(id);
  }

  async rerun(id: string): Promise<RunResponse> {
    const result = await this.command('rerun', id);
    return this.get(result.newRuns.get(id) as string);
  }

  private async command(command: RunCommand, id: string): Promise<RunCommandResult> {
    const result = await this.commands.apply(command, [id]);
    const refusal = result.refused.get(id);
    if (refusal) throw refusal;
    await this.commands.afterCommit(command, result);
    return result;
  }
}
