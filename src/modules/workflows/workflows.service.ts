import { Inject, Injectable } from '@nestjs/common';
import { isDeepStrictEqual } from 'node:util';
import { newId } from '../../common/ids.util.js';

import { ChangeFeed } from '../../common/change.feed.js';
import { ConflictError, InvalidInputError, NotFoundError, ValidationError } from '../../common/domain.error.js';
import { decodeCursor, toPage, type Page } from '../../common/pagination.util.js';
import { APP_CONFIG, type AppConfig } from '../../config/app.config.js';
import {
  DefinitionError,
  secretReferencesOf,
  validateDefinition,
  type WorkflowDefinition,
} from '../../engine/index.js';
import {
  toWorkflowResponse,
  toWorkflowVersionResponse,
  type CreateWorkflowDto,
  type UpdateWorkflowDto,
  type WorkflowResponse,
  type WorkflowVersionResponse,
} from './dto/workflow.dto.js';
import { WORKFLOW_SECRET_NAMES, type WorkflowSecretNames } from './workflow-secrets.port.js';
import {
  WORKFLOW_NOTIFY_ENDPOINTS,
  type NewNotifySecret,
  type WorkflowNotifyEndpoints,
} from './workflow-notify.port.js';
import { WORKFLOW_TRIGGER_SUMMARIES, type WorkflowTriggerSummaries } from './workflow-triggers.port.js';
import type { WorkflowVersion } from './workflow-version.entity.js';
import type { Workflow } from './workflow.entity.js';
import {
  WorkflowsRepository,
  type DefinitionHook,
  type WorkflowChanges,
  type WorkflowRunRetention,
} from './workflows.repository.js';

export interface RunnableWorkflow {
  id: string;
  version: number;
}

@Injectable()
export class WorkflowsService {
  constructor(
    private readonly repository: WorkflowsRepository,
    private readonly changes: ChangeFeed,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(WORKFLOW_TRIGGER_SUMMARIES) private readonly triggers: WorkflowTriggerSummaries,
    @Inject(WORKFLOW_SECRET_NAMES) private readonly secretNames: WorkflowSecretNames,
    @Inject(WORKFLOW_NOTIFY_ENDPOINTS) private readonly notifyEndpoints: WorkflowNotifyEndpoints,
  ) {}

  async create(dto: CreateWorkflowDto): Promise<WorkflowResponse> {
    const now = new Date();
    const workflow: Workflow = {
      id: newId(),
      name: dto.name,
      description: dto.description ?? null,
      enabled: true,
      version: 1,
      definition: await this.parseDefinition(dto.definition),
      runRetentionDays: dto.runRetentionDays ?? null,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    };
    const notify = this.notifySync(workflow.id, workflow.definition, now);
    await this.repository.insertWithFirstVersion(workflow, notify.hook);
    return withNotifySecrets(toWorkflowResponse(workflow, null, this.config.publicBaseUrl), notify.created);
  }

  async get(id: string): Promise<WorkflowResponse> {
    return this.toResponse(await this.findLive(id));
  }

  async list(limit: number, cursor?: string): Promise<Page<WorkflowResponse>> {
    const rows = await this.repository.listLive(limit, decodeCursor(cursor));
    const triggers = await this.triggers.summariesOf(rows.slice(0, limit).map((row) => row.id));
    return toPage(rows, limit, (row) =>
      toWorkflowResponse(row, triggers.get(row.id) ?? null, this.config.publicBaseUrl),
    );
  }

  async update(id: string, dto: UpdateWorkflowDto): Promise<WorkflowResponse> {
    const changes: WorkflowChanges = {
      name: dto.name,
      description: dto.description,
      enabled: dto.enabled,
      runRetentionDays: dto.runRetentionDays,
    };
    if (dto.definition !== undefined) {
      const definition = await this.parseDefinition(dto.definition);
      const current = await this.findLive(id);
      if (!isDeepStrictEqual(current.definition, definition)) changes.definition = definition;
    }
    const now = new Date();
    const notify = this.notifySync(id, changes.definition, now);
    const updated = await this.repository.update(id, changes, now, notify.hook);
    if (!updated) throw new NotFoundError('workflow', id);
    this.changes.publish({ workflowId: id });
    return withNotifySecrets(await this.toResponse(updated), notify.created);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.repository.softDelete(id, new Date()))) throw new NotFoundError('workflow', id);
    this.changes.publish({ workflowId: id });
  }

  async listVersions(id: string, limit: number, cursor?: string): Promise<Page<WorkflowVersionResponse>> {
    await this.findLive(id);
    const before = decodeVersionCursor(cursor);
    const rows = await this.repository.listVersions(id, limit, before);
    const more = rows.length > limit;
    const items = more ? rows.slice(0, limit) : rows;
    return {
      data: items.map(toWorkflowVersionResponse),
      nextCursor: more ? encodeVersionCursor(items[items.length - 1].version) : null,
    };
  }

  async restoreVersion(id: string, version: number): Promise<WorkflowResponse> {
    const old = await this.repository.findVersion(id, version);
    if (!old) {
      await this.findLive(id);
      throw new NotFoundError('version', String(version));
    }
    // A secret it used may have been deleted since.
    await this.assertSecretsExist(old.definition);
    const now = new Date();
    const notify = this.notifySync(id, old.definition, now);
    const updated = await this.repository.update(id, { definition: old.definition }, now, notify.hook);
    if (!updated) throw new NotFoundError('workflow', id);
    this.changes.publish({ workflowId: id });
    return withNotifySecrets(await this.toResponse(updated), notify.created);
  }

  async findRunnable(id: string): Promise<RunnableWorkflow> {
    const workflow = await this.findLive(id);
    if (!workflow.enabled)
      throw new ConflictError('workflow_disabled', 'Workflow is disabled: enable it to start runs');
    return { id: workflow.id, version: workflow.version };
  }

  /** The definition a run executes: the version it started with, even if the workflow changed since. */
  async definitionOf(workflowId: string, version: number): Promise<WorkflowDefinition> {
    const found: WorkflowVersion | null = await this.repository.findVersion(workflowId, version);
    if (!found) throw new NotFoundError('version', `${workflowId}@${version}`);
    return found.definition;
  }

  async namesOf(ids: string[]): Promise<Map<string, string>> {
    const found = await this.repository.findNames([...new Set(ids)]);
    return new Map(found.map((w) => [w.id, w.name]));
  }

  /** For each of `names`, the live workflows whose current definition uses it. */
  async usersOfSecrets(names: readonly string[]): Promise<Map<string, { id: string; name: string }[]>> {
    const users = new Map<string, { id: string; name: string }[]>(names.map((name) => [name, []]));
    if (names.length === 0) return users;
    for (const workflow of await this.repository.listLiveMentioning('secret')) {
      let used: Set<string>;
      try {
        used = new Set(secretReferencesOf(workflow.definition).map((reference) => reference.name));
      } catch (error) {
        // Saved before secrets existed, with a `secrets` path of its own: it uses none.
        if (error instanceof DefinitionError) continue;
        throw error;
      }
      for (const name of used) users.get(name)?.push({ id: workflow.id, name: workflow.name });
    }
    return users;
  }

  /** Every workflow, deleted ones included (their runs remain), with its own run retention if it has one. */
  runRetentions(): Promise<WorkflowRunRetention[]> {
    return this.repository.listRunRetentions();
  }

  async assertExists(id: string): Promise<void> {
    await this.findLive(id);
  }

  /** The notify endpoints follow the definition saved, in its transaction; new ones' secrets are shown once. */
  private notifySync(
    workflowId: string,
    definition: WorkflowDefinition | undefined,
    now: Date,
  ): { hook: DefinitionHook; created: NewNotifySecret[] } {
    const created: NewNotifySecret[] = [];
    const hook: DefinitionHook = async (tx) => {
      created.push(...(await this.notifyEndpoints.sync(tx, workflowId, definition?.notify, now)));
    };
    return { hook, created };
  }

  private async findLive(id: string): Promise<Workflow> {
    const workflow = await this.repository.findLive(id);
    if (!workflow) throw new NotFoundError('workflow', id);
    return workflow;
  }

  private async parseDefinition(raw: unknown): Promise<WorkflowDefinition> {
    const definition = parseDefinition(raw);
    await this.assertSecretsExist(definition);
    return definition;
  }

  private async assertSecretsExist(definition: WorkflowDefinition): Promise<void> {
    const references = secretReferencesOf(definition);
    if (references.length === 0) return;
    const existing = await this.secretNames.existingOf([...new Set(references.map((r) => r.name))]);
    const missing = references.filter((reference) => !existing.has(reference.name));
    if (missing.length > 0) {
      const named = missing.map(({ stepId, name }) => `step "${stepId}": secret "${name}" does not exist`).join('; ');
      throw new InvalidInputError('invalid_definition', `${named}: create it with PUT /v1/secrets/{NAME}`);
    }
  }

  private async toResponse(workflow: Workflow): Promise<WorkflowResponse> {
    const triggers = await this.triggers.summariesOf([workflow.id]);
    return toWorkflowResponse(workflow, triggers.get(workflow.id) ?? null, this.config.publicBaseUrl);
  }
}

function withNotifySecrets(response: WorkflowResponse, created: NewNotifySecret[]): WorkflowResponse {
  return created.length > 0 ? { ...response, notifySecrets: created } : response;
}

function parseDefinition(raw: unknown): WorkflowDefinition {
  try {
    return validateDefinition(raw);
  } catch (error) {
    if (error instanceof DefinitionError) throw new InvalidInputError('invalid_definition', error.message);
    throw error;
  }
}

function encodeVersionCursor(version: number): string {
  return Buffer.from(`v${version}`).toString('base64url');
}

function decodeVersionCursor(cursor: string | undefined): number | null {
  if (!cursor) return null;
  const match = /^v(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) {
    throw new ValidationError('cursor: not a cursor returned by this API', [
      { field: 'cursor', message: 'not a cursor returned by this API' },
    ]);
  }
  return Number(match[1]);
}
