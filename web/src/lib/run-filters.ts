import { RUN_STATUSES, type Run, type RunStatus } from '../api/types';

export const TRIGGER_TYPES = ['webhook', 'api', 'rerun'] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];

export interface RunFilters {
  status?: RunStatus;
  workflowId?: string;
  triggerType?: TriggerType;
  /** Inclusive, ISO 8601. */
  createdFrom?: string;
  /** Exclusive, ISO 8601. */
  createdTo?: string;
}

function isoOrUndefined(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

/** Filters from the page's query string, so that a filtered list can be bookmarked and reloaded. */
export function filtersFromQuery(query: Record<string, string | undefined>): RunFilters {
  const filters: RunFilters = {};
  if (query.status && (RUN_STATUSES as string[]).includes(query.status)) filters.status = query.status as RunStatus;
  if (query.workflowId) filters.workflowId = query.workflowId;
  if (query.triggerType && (TRIGGER_TYPES as readonly string[]).includes(query.triggerType)) {
    filters.triggerType = query.triggerType as TriggerType;
  }
  const createdFrom = isoOrUndefined(query.createdFrom);
  if (createdFrom) filters.createdFrom = createdFrom;
  const createdTo = isoOrUndefined(query.createdTo);
  if (createdTo) filters.createdTo = createdTo;
  return filters;
}

/** The query string for the console's URL (no paging) or for the API (with `limit` and `cursor`). */
export function runsQueryString(filters: RunFilters, paging?: { cursor: string | null; limit: number }): string {
  const params = new URLSearchParams();
  if (paging) params.set('limit', String(paging.limit));
  if (filters.status) params.set('status', filters.status);
  if (filters.workflowId) params.set('workflowId', filters.workflowId);
  if (filters.triggerType) params.set('triggerType', filters.triggerType);
  if (filters.createdFrom) params.set('createdFrom', filters.createdFrom);
  if (filters.createdTo) params.set('createdTo', filters.createdTo);
  if (paging?.cursor) params.set('cursor', paging.cursor);
  return params.toString();
}

export function hasFilters(filters: RunFilters): boolean {
  return Object.values(filters).some((value) => value !== undefined);
}

/** Whether a run belongs in a list with these filters (the server's rules, for rows the changes feed brings). */
export function runMatches(run: Pick<Run, 'status' | 'workflowId' | 'trigger' | 'createdAt'>, filters: RunFilters) {
  if (filters.status && run.status !== filters.status) return false;
  if (filters.workflowId && run.workflowId !== filters.workflowId) return false;
  if (filters.triggerType && run.trigger.type !== filters.triggerType) return false;
  const created = Date.parse(run.createdAt);
  if (filters.createdFrom && created < Date.parse(filters.createdFrom)) return false;
  if (filters.createdTo && created >= Date.parse(filters.createdTo)) return false;
  return true;
}

/** An ISO instant as the value of a `datetime-local` input (to the second), in the browser's time zone. */
export function toLocalInput(iso: string | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** A `datetime-local` value (local time) as an ISO instant, or undefined when empty. */
export function fromLocalInput(value: string): string | undefined {
  if (!value) return undefined;
  const time = new Date(value).getTime();
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}
