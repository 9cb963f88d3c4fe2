import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';

import { idOf } from '../../common/id-param.pipe.js';
import { checkIdempotencyKey } from '../../common/idempotency-key.util.js';
import { ApiData, ApiErrors } from '../../common/openapi.decorator.js';
import type { Page } from '../../common/pagination.util.js';
import { abortedOnClose } from '../../common/response-close.util.js';
import {
  AllRunsQueryDto,
  BatchRunStatsQueryDto,
  RunChangesQueryDto,
  RunChangesResponse,
  RunListItemResponse,
  RunListQueryDto,
  RunResponse,
  RunStatsQueryDto,
  StartRunDto,
  WorkflowRunStatsResponse,
} from './dto/run.dto.js';
import { RunListsService } from './run-lists.service.js';
import { MAX_WAIT_SECONDS, parseWaitQuery, WAIT_DESCRIPTION } from './run-wait.parser.js';
import { RunsService } from './runs.service.js';

@ApiTags('Runs')
@ApiBearerAuth()
@ApiErrors('unauthorized')
@Controller('v1')
export class RunsController {
  constructor(
    private readonly runs: RunsService,
    private readonly lists: RunListsService,
  ) {}

  @Post('workflows/:id/runs')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Start a run of a workflow with an input',
    description:
      'With `?wait=S`, answers 200 with the run once it has ended, if it ends within S seconds; otherwise 202. ' +
      'A replay (same `Idempotency-Key`) waits on the first run the same way.',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'The same key for the same workflow returns the first run (header `idempotent-replayed: true`)',
  })
  @ApiQuery({
    name: 'wait',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: MAX_WAIT_SECONDS, example: 10 },
    description: WAIT_DESCRIPTION,
  })
  @ApiData(202, RunResponse, { description: 'Started (with `wait`: not ended in time); `Location` points at the run' })
  @ApiData(200, RunResponse, { description: 'With `wait`: the run ended in time (completed, failed or cancelled)' })
  @ApiErrors('workflow_not_found', 'workflow_disabled', 'validation_failed', 'invalid_json', 'unsupported_media_type')
  async start(
    @Param('id', idOf('workflow')) id: string,
    @Body() body: StartRunDto,
    @Query('wait') wait: unknown,
    @Query('reply') reply: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ data: RunResponse }> {
    const waitQuery = parseWaitQuery(wait, reply, false);
    const { run, replayed, ended } = await this.runs.startFromApi(
      id,
      body.input,
      checkIdempotencyKey(idempotencyKey),
      waitQuery && { seconds: waitQuery.seconds, signal: abortedOnClose(res) },
    );
    res.setHeader('Location', `/v1/workflow-runs/${run.id}`);
    if (replayed) res.setHeader('idempotent-replayed', 'true');
    if (ended) res.status(200);
    return { data: run };
  }

  @Get('workflows/:id/runs')
  @ApiOperation({ summary: "List a workflow's runs, newest first" })
  @ApiData(200, RunListItemResponse, { list: true })
  @ApiErrors('workflow_not_found', 'validation_failed')
  listForWorkflow(
    @Param('id', idOf('workflow')) id: string,
    @Query() query: RunListQueryDto,
  ): Promise<Page<RunListItemResponse>> {
    return this.lists.listForWorkflow(id, query.status, query.limit ?? 20, query.cursor);
  }

  @Get('workflows/:id/run-stats')
  @ApiOperation({ summary: "Count a workflow's recent runs by status" })
  @ApiData(200, WorkflowRunStatsResponse)
  @ApiErrors('workflow_not_found', 'validation_failed')
  async stats(
    @Param('id', idOf('workflow')) id: string,
    @Query() query: RunStatsQueryDto,
  ): Promise<{ data: WorkflowRunStatsResponse }> {
    return { data: await this.lists.statsOf(id, query.hours ?? 24) };
  }

  @Get('workflow-run-stats')
  @ApiOperation({ summary: 'Count the recent runs of several workflows by status, in the order asked' })
  @ApiData(200, WorkflowRunStatsResponse, { list: true, noCursor: true })
  @ApiErrors('validation_failed')
  async batchStats(@Query() query: BatchRunStatsQueryDto): Promise<{ data: WorkflowRunStatsResponse[] }> {
    return { data: await this.lists.statsOfList(query.workflowIds, query.hours ?? 24) };
  }

  @Get('workflow-runs')
  @ApiOperation({ summary: 'List runs, newest first' })
  @ApiData(200, RunListItemResponse, { list: true })
  @ApiErrors('validation_failed')
  list(@Query() query: AllRunsQueryDto): Promise<Page<RunListItemResponse>> {
    return this.lists.list(query, query.limit ?? 20, query.cursor);
  }

  @Get('workflow-runs/changes')
  @ApiOperation({
    summary: 'Runs created or changed since a token, for keeping a list current',
    description:
      'Call without `since` to get a starting `nextToken`, then poll with the last `nextToken` and the same ' +
      'filters. Delivery is at least once: a run may appear again in a later answer (replace it by id). ' +
      'A run that no longer matches `status` is not sent. Answers hold at most `limit` runs; when full, ' +
      'poll again at once with `nextToken`.',
  })
  @ApiData(200, RunChangesResponse, { raw: true })
  @ApiErrors('validation_failed')
  changes(@Query() query: RunChangesQueryDto): Promise<RunChangesResponse> {
    return this.lists.changes(query, query.since, query.limit ?? 100);
  }

  @Get('workflow-runs/:id')
  @ApiOperation({ summary: 'Get a run with its steps' })
  @ApiData(200, RunResponse)
  @ApiErrors('run_not_found')
  async get(@Param('id', idOf('run')) id: string): Promise<{ data: RunResponse }> {
    return { data: await this.runs.get(id) };
  }

  @Post('workflow-runs/:id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel a run that has not finished' })
  @ApiData(200, RunResponse)
  @ApiErrors('run_not_found', 'run_finished')
  async cancel(@Param('id', idOf('run')) id: string): Promise<{ data: RunResponse }> {
    return { data: await this.runs.cancel(id) };
  }

  @Post('workflow-runs/:id/retry')
  @HttpCode(202)
  @ApiOperation({ summary: 'Go on with a failed run from its failed step' })
  @ApiData(202, RunResponse)
  @ApiErrors('run_not_found', 'run_not_failed')
  async retry(@Param('id', idOf('run')) id: string): Promise<{ data: RunResponse }> {
    return { data: await this.runs.retry(id) };
  }

  @Post('workflow-runs/:id/rerun')
  @HttpCode(202)
  @ApiOperation({ summary: 'Start a new run with the same input and workflow version' })
  @ApiData(202, RunResponse)
  @ApiErrors('run_not_found', 'workflow_not_found', 'workflow_disabled')
  async rerun(@Param('id', idOf('run')) id: string): Promise<{ data: RunResponse }> {
    return { data: await this.runs.rerun(id) };
  }
}
