import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';

import { ConflictError, NotFoundError, ValidationError } from '../../common/domain.error.js';
import { newId } from '../../common/ids.util.js';
import type { RunFilter } from '../runs/runs.repository.js';
import type { BulkActionFilter } from './bulk-action.types.js';
import { BulkActionsProducer } from './bulk-actions.producer.js';
import { BulkActionsRepository } from './bulk-actions.repository.js';
import {
  DEFAULT_BULK_LIMIT,
  toBulkActionResponse,
  type BulkActionResponse,
  type CreateBulkActionDto,
} from './dto/bulk-action.dto.js';

const LISTED_FAILURES = 100;

@Injectable()
export class BulkActionsService {
  constructor(
    private readonly repository: BulkActionsRepository,
    private readonly producer: BulkActionsProducer,
  ) {}

  /** Fixes the set of runs and hands the work to the workers; the same key and request return the first action. */
  async create(
    request: CreateBulkActionDto,
    idempotencyKey: string | null,
  ): Promise<{ action: BulkActionResponse; replayed: boolean }> {
    const filter = normaliseFilter(request.filter);
    const limit = request.limit ?? DEFAULT_BULK_LIMIT;
    const requestHash = hashOf({ action: request.action, filter, limit });
    const { action, created } = await this.repository.create({
      id: newId(),
      action: request.action,
      filter,
      runFilter: toRunFilter(filter),
      limit,
      idempotencyKey,
      requestHash,
    });
    if (!created && action.requestHash !== requestHash) {
      throw new ConflictError(
        'idempotency_key_reused',
        'This Idempotency-Key was used with another request: send a new key for a new request',
      );
    }
    if (created && action.status !== 'completed') await this.producer.enqueue(action.id);
    const failures = created ? [] : await this.repository.failuresOf(action.id, LISTED_FAILURES);
    return { action: toBulkActionResponse(action, failures), replayed: !created };
  }

  async get(id: string): Promise<BulkActionResponse> {
    const action = await this.repository.findById(id);
    if (!action) throw new NotFoundError('bulk_action', id);
    return toBulkActionResponse(action, await this.repository.failuresOf(id, LISTED_FAILURES));
  }
}

/** Dates as ISO 8601 in UTC and ids in lower case, absent fields left out: one request, one form (and hash). */
export function normaliseFilter(filter: BulkActionFilter): BulkActionFilter {
  const normalised: BulkActionFilter = {};
  if (filter.workflowId !== undefined) normalised.workflowId = filter.workflowId.toLowerCase();
  if (filter.status !== undefined) normalised.status = filter.status;
  if (filter.triggerType !== undefined) normalised.triggerType = filter.triggerType;
  if (filter.createdAfter !== undefined) normalised.createdAfter = isoOf('createdAfter', filter.createdAfter);
  if (filter.createdBefore !== undefined) normalised.createdBefore = isoOf('createdBefore', filter.createdBefore);
  if (normalised.createdAfter && normalised.createdBefore && normalised.createdAfter >= normalised.createdBefore) {
    throw invalid('createdBefore', 'must be after filter.createdAfter');
  }
  return normalised;
}

function isoOf(field: keyof BulkActionFilter, value: string): string {
  const time = Date.parse(value);
  // Past year 9999 toISOString's form no longer sorts as text.
  if (Number.isNaN(time) || time < Date.UTC(1970, 0, 1) || time >= Date.UTC(10000, 0, 1)) {
    throw invalid(field, 'must be a time between 1970 and 9999');
  }
  return new Date(time).toISOString();
}

function invalid(field: keyof BulkActionFilter, message: string): ValidationError {
  return new ValidationError(`filter.${field}: ${message}`, [{ field: `filter.${field}`, message }]);
}

export function toRunFilter(filter: BulkActionFilter): RunFilter {
  return {
    workflowId: filter.workflowId,
    status: filter.status,
    triggerType: filter.triggerType,
    createdFrom: filter.createdAfter === undefined ? undefined : new Date(filter.createdAfter),
    createdTo: filter.createdBefore === undefined ? undefined : new Date(filter.createdBefore),
  };
}

/** Keys in a fixed order, so that the same request always hashes the same. */
export function hashOf(request: { action: string; filter: BulkActionFilter; limit: number }): string {
  const { filter } = request;
  const canonical = JSON.stringify([
    request.action,
    request.limit,
    filter.workflowId ?? null,
    filter.status ?? null,
    filter.triggerType ?? null,
    filter.createdAfter ?? null,
    filter.createdBefore ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}
