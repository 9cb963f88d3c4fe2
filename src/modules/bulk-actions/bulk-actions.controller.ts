import { Body, Controller, Get, Headers, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';

import { idOf } from '../../common/id-param.pipe.js';
import { checkIdempotencyKey } from '../../common/idempotency-key.util.js';
import { ApiData, ApiErrors } from '../../common/openapi.decorator.js';
import { BulkActionsService } from './bulk-actions.service.js';
import { BulkActionResponse, CreateBulkActionDto } from './dto/bulk-action.dto.js';

@ApiTags('Runs')
@ApiBearerAuth()
@ApiErrors('unauthorized')
@Controller('v1/workflow-runs/bulk')
export class BulkActionsController {
  constructor(private readonly bulkActions: BulkActionsService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Cancel, retry or rerun the runs that match a filter, in the background',
    description:
      'The matching runs (newest first, at most `limit`) are fixed now; workers act on them in batches. Poll ' +
      '`GET /v1/workflow-runs/bulk/{id}` (the `Location` header) until `status` is `completed`. A run the action does ' +
      'not fit counts in `failed`, with the reason its single-run endpoint would give.',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'The same key with the same request returns the first action (header `idempotent-replayed: true`); with ' +
      'another request, `409 idempotency_key_reused`',
  })
  @ApiData(202, BulkActionResponse)
  @ApiErrors('validation_failed', 'idempotency_key_reused', 'invalid_json', 'unsupported_media_type')
  async create(
    @Body() body: CreateBulkActionDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ data: BulkActionResponse }> {
    const { action, replayed } = await this.bulkActions.create(body, checkIdempotencyKey(idempotencyKey));
    res.setHeader('Location', `/v1/workflow-runs/bulk/${action.id}`);
    if (replayed) res.setHeader('idempotent-replayed', 'true');
    return { data: action };
  }

  @Get(':id')
  @ApiOperation({ summary: "A bulk action's progress and its first failures" })
  @ApiData(200, BulkActionResponse)
  @ApiErrors('bulk_action_not_found')
  async get(@Param('id', idOf('bulk_action')) id: string): Promise<{ data: BulkActionResponse }> {
    return { data: await this.bulkActions.get(id) };
  }
}
