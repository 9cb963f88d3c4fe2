import { Injectable } from '@nestjs/common';

import { ValidationError } from '../../common/domain.error.js';
import { decodeCursor, toPage, type Page } from '../../common/pagination.util.js';
import { WorkflowsService } from '../workflows/workflows.service.js';
import {
  toRunResponse,
  type RunChangesResponse,
  type RunListItemResponse,
  type WorkflowRunStatsResponse,
} from './dto/run.dto.js';
import type { RunStatus, TriggerType } from './run-status.types.js';
import { RunsRepository, type RunChange, type RunFilter } from './runs.repository.js';
import type { WorkflowRun } from './workflow-run.entity.js';

export interface RunFilterInput {
  workflowId?: string;
  status?: RunStatus;
  triggerType?: TriggerType;
  createdFrom?: string;
  createdTo?: string;
}

// How far back a caught-up feed reads again: a write whose transaction began (now()) before the previous read but
// committed after it is still seen. Hence at-least-once.
const CHANGES_OVERLAP_MS = 5_000;
const MAX_STATS_WORKFLOWS = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface ChangesToken {
  /** Changes at or after this time (ISO 8601). */
  s: string;
  /** Keyset of the last change sent, while a backlog is paged through. */
  a?: { t: string; id: string };
}

/** The runs list, its changes feed and the per-workflow counts: reads only. */
@Injectable()
export class RunListsService {
  constructor(
    private readonly runs: RunsRepository,
    private readonly workflows: WorkflowsService,
  ) {}

  async list(input: RunFilterInput, limit: number, cursor?: string): Promise<Page<RunListItemResponse>> {
    const rows = await this.runs.list(toFilter(input), limit, decodeCursor(cursor));
    const page = toPage(rows, limit, (run) => run);
    return { data: await this.withNames(page.data), nextCursor: page.nextCursor };
  }

  async listForWorkflow(workflowId: string, status: RunStatus | undefined, limit: number, cursor?: string) {
    await this.workflows.assertExists(workflowId);
    return this.list({ workflowId, status }, limit, cursor);
  }

  async changes(input: RunFilterInput, since: string | undefined, limit: number): Promise<RunChangesResponse> {
    const filter = toFilter(input);
    if (since === undefined) return { data: [], nextToken: caughtUp(await this.runs.databaseNow()) };
    const token = decodeToken(since);
    const after: RunChange | null = token.a ? { updatedAt: token.a.t, id: token.a.id } : null;
    const [changes, now] = await Promise.all([
      this.runs.listChanges(filter, new Date(token.s), after, limit),
      this.runs.databaseNow(),
    ]);
    const more = changes.length > limit;
    const sent = more ? changes.slice(0, limit) : changes;
    const last = sent[sent.length - 1];
    const nextToken = more ? encodeToken({ s: token.s, a: { t: last.updatedAt, id: last.id } }) : caughtUp(now);
    const byId = new Map((await this.runs.findWithStepsByIds(sent.map((c) => c.id))).map((r) => [r.id, r]));
    const runs = sent.map((c) => byId.get(c.id)).filter((r): r is WorkflowRun => r !== undefined);
    return { data: await this.withNames(runs), nextToken };
  }

  async stats(workflowIds: string[], hours: number): Promise<WorkflowRunStatsResponse[]> {
    const to = new Date();
    const from = new Date(to.getTime() - hours * 3_600_000);
    const counts = await this.runs.countByStatus(workflowIds, from, to);
    return workflowIds.map((workflowId) => ({
      workflowId,
      from: from.toISOString(),
      to: to.toISOString(),
      counts: counts.get(workflowId) ?? { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 },
    }));
  }

  async statsOf(workflowId: string, hours: number): Promise<WorkflowRunStatsResponse> {
    await this.workflows.assertExists(workflowId);
    const [stats] = await this.stats([workflowId], hours);
    return stats;
  }

  /** Unknown ids count zero runs, as a workflow without runs does. */
  statsOfList(workflowIds: string, hours: number): Promise<WorkflowRunStatsResponse[]> {
    const ids = [...new Set(workflowIds.split(',').map((id) => id.trim()))];
    if (ids.length > MAX_STATS_WORKFLOWS || ids.some((id) => !UUID.test(id))) {
      throw invalid('workflowIds', `must be 1 to ${MAX_STATS_WORKFLOWS} comma-separated workflow ids`);
    }
    return this.stats(ids, hours);
  }

  private async withNames(runs: WorkflowRun[]): Promise<RunListItemResponse[]> {
    const names = await this.workflows.namesOf(runs.map((r) => r.workflowId));
    return runs.map((run) => ({ ...toRunResponse(run), workflowName: names.get(run.workflowId) ?? null }));
  }
}

function toFilter(input: RunFilterInput): RunFilter {
  const createdFrom = input.createdFrom === undefined ? undefined : new Date(input.createdFrom);
  const createdTo = input.createdTo === undefined ? undefined : new Date(input.createdTo);
  if (createdFrom && createdTo && createdFrom > createdTo) throw invalid('createdTo', 'must not be before createdFrom');
  return { workflowId: input.workflowId, status: input.status, triggerType: input.triggerType, createdFrom, createdTo };
}

function invalid(field: string, message: string): ValidationError {
  return new ValidationError(`${field}: ${message}`, [{ field, message }]);
}

function caughtUp(now: Date): string {
  return encodeToken({ s: new Date(now.getTime() - CHANGES_OVERLAP_MS).toISOString() });
}

function encodeToken(token: ChangesToken): string {
  return Buffer.from(JSON.stringify(token), 'utf8').toString('base64url');
}

function decodeToken(value: string): ChangesToken {
  try {
    const token = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as ChangesToken;
    const valid =
      typeof token.s === 'string' &&
      !Number.isNaN(Date.parse(token.s)) &&
      (token.a === undefined ||
        (typeof token.a.t === 'string' && !Number.isNaN(Date.parse(token.a.t)) && UUID.test(token.a.id)));
    if (valid) return token;
  } catch {
    // Falls through to the validation error.
  }
  throw invalid('since', 'not a token returned by this API');
}
