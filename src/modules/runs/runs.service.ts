import { Injectable } from '@nestjs/common';
import { newId } from '../../common/ids.util.js';

import { NotFoundError } from '../../common/domain.error.js';
import { REQUEST_DATABASE_TIMEOUT_MS, withTimeout } from '../../common/timeout.util.js';
import { WorkflowsService } from '../workflows/workflows.service.js';
import { toRunResponse, type RunResponse } from './dto/run.dto.js';
import { RunCommandsService, type RunCommand, type RunCommandResult } from './run-commands.service.js';
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

@Injectable()
export class RunsService {
  constructor(
    private readonly runs: RunsRepository,
    private readonly webhookRuns: WebhookRunsRepository,
    private readonly producer: RunsProducer,
    private readonly workflows: WorkflowsService,
    private readonly commands: RunCommandsService,
  ) {}

  /** Bounded by the request's deadline and the queue's timeout; a 202 always means a committed run. */
  async startFromWebhook(request: WebhookRunRequest): Promise<InsertedRun> {
    const run = await this.webhookRuns.insert(
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
    if (run.created) await this.producer.enqueue(run.id);
    return run;
  }

  async startFromApi(
    workflowId: string,
    input: unknown,
    idempotencyKey: string | null,
  ): Promise<{ run: RunResponse; replayed: boolean }> {
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
    if (inserted.created) await this.producer.enqueue(inserted.id);
    const run = await withTimeout(this.get(inserted.id), deadline - Date.now(), 'Reading the run');
    return { run, replayed: !inserted.created };
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
