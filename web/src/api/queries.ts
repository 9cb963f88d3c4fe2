import { useQuery } from '@tanstack/preact-query';

import { api } from './client';
import type { ApiKey, Page, Run, Workflow } from './types';

const RUN_POLL_MS = 1000;

export function isActive(run: Run | undefined): boolean {
  return run?.status === 'queued' || run?.status === 'running';
}

export function useRun(id: string) {
  return useQuery({
    queryKey: ['run', id],
    queryFn: () => api<{ data: Run }>(`/v1/workflow-runs/${encodeURIComponent(id)}`).then((r) => r.data),
    refetchInterval: (query) => (isActive(query.state.data) ? RUN_POLL_MS : false),
  });
}

/** Workflows by id, for names in lists and for filters. */
export function useWorkflows() {
  return useQuery({
    queryKey: ['workflows'],
    queryFn: () => api<Page<Workflow>>('/v1/workflows?limit=100'),
    staleTime: 10_000,
  });
}

export function useWorkflow(id: string) {
  return useQuery({
    queryKey: ['workflow', id],
    queryFn: () => api<{ data: Workflow }>(`/v1/workflows/${encodeURIComponent(id)}`).then((r) => r.data),
  });
}

export function useApiKeys() {
  return useQuery({ queryKey: ['api-keys'], queryFn: () => api<Page<ApiKey>>('/v1/api-keys?limit=100') });
}
