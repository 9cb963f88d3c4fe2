import { Injectable } from '@nestjs/common';
import { newId } from '../../common/ids.util.js';

import { ConflictError, NotFoundError } from '../../common/domain.error.js';
import { REQUEST_DATABASE_TIMEOUT_MS, withTimeout } from '../../common/timeout.util.js';
import { WorkflowsService } from '../workflows/workflows.service.js';
import { toRunResponse, type RunResponse } from './dto/run.dto.js';
import { FlowControlService } from './flow-control.service.js';
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
    private readonly flow: FlowControlService,
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
    if (!(await this.runs.cancel(id, new Date()))) {
      await this.get(id);
      throw new ConflictError('run_finished', 'Run has already finished');
    }
    await this.producer.discard(id);
    // The run may have held (or waited ahead in) a concurrency key: the next one waiting goes on.
    await this.flow.wakeAfterEnd(id);
    return this.get(id);
  }

  async retry(id: string): Promise<RunResponse> {
    if (!(await this.runs.reopenFailed(id))) {
      await this.get(id);
      throw new ConflictError('run_not_failed', 'Only failed runs can be retried');
    }
    await this.producer.enqueue(id);
    return this.get(id);
  }

  async rerun(id: string): Promise<RunResponse> {
    const original = await this.runs.findById(id);
    if (!original) throw new NotFoundError('run', id);
    await this.workflows.findRunnable(original.workflowId);
    const inserted = await this.runs.insertUnlessDuplicate({
      id: newId(),
      workflowId: original.workflowId,
      workflowVersion: original.workflowVersion,
      triggerType: 'rerun',
      idempotencyKey: null,
      rerunOf: original.id,
      inputJson: JSON.stringify(original.input ?? null),
    });
    await this.producer.enqueue(inserted.id);
    return this.get(inserted.id);
  }
}
