import { RUN_STATUSES, type RunStatus } from '../api/types';

export interface RunFilters {
  status?: RunStatus;
  workflowId?: string;
  // TODO(issue 14, wt14-api): createdFrom, createdTo, triggerType once the runs list takes them.
}

/** Filters from the page's query string, so that a filtered list can be bookmarked and reloaded. */
export function filtersFromQuery(query: Record<string, string | undefined>): RunFilters {
  const filters: RunFilters = {};
  if (query.status && (RUN_STATUSES as string[]).includes(query.status)) filters.status = query.status as RunStatus;
  if (query.workflowId) filters.workflowId = query.workflowId;
  return filters;
}

/** The query string for the console's URL (no paging) or for the API (with `limit` and `cursor`). */
export function runsQueryString(filters: RunFilters, paging?: { cursor: string | null; limit: number }): string {
  const params = new URLSearchParams();
  if (paging) params.set('limit', String(paging.limit));
  if (filters.status) params.set('status', filters.status);
  if (filters.workflowId) params.set('workflowId', filters.workflowId);
  if (paging?.cursor) params.set('cursor', paging.cursor);
  return params.toString();
}
