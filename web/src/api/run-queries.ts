import { useInfiniteQuery, useQuery, useQueryClient, type InfiniteData } from '@tanstack/preact-query';
import { useEffect } from 'preact/hooks';

import { runMatches, runsQueryString, type RunFilters } from '../lib/run-filters';
import { mergeRunChanges } from '../lib/run-merge';
import { api } from './client';
import type { Page, Run, RunStatus } from './types';

export const CHANGES_POLL_MS = 1000;
const PAGE_SIZE = 20;
const CHANGES_LIMIT = 100;

interface Changes {
  data: Run[];
  nextToken: string;
}

/** The changes feed drops the status filter: a run leaving the status must reach the list to be removed from it. */
function changesPath(filters: RunFilters, since?: string): string {
  const params = new URLSearchParams(
    runsQueryString({ ...filters, status: undefined }, { cursor: null, limit: CHANGES_LIMIT }),
  );
  if (since) params.set('since', since);
  return `/v1/workflow-runs/changes?${params.toString()}`;
}

/**
 * The runs list, loaded page by page once, then kept current from the changes feed: the starting token is taken
 * before the first page so that nothing changed in between is missed (the feed is at least once).
 */
export function useLiveRuns(filters: RunFilters) {
  const queryClient = useQueryClient();
  const start = useQuery({
    queryKey: ['runs-token', filters],
    queryFn: () => api<Changes>(changesPath(filters)).then((r) => r.nextToken),
    staleTime: Infinity,
    gcTime: 0,
  });
  const runs = useInfiniteQuery({
    queryKey: ['runs', filters],
    queryFn: ({ pageParam }) =>
      api<Page<Run>>(`/v1/workflow-runs?${runsQueryString(filters, { cursor: pageParam, limit: PAGE_SIZE })}`),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    enabled: start.data !== undefined,
    // Kept no longer than the token: a list cached past it would miss the changes made in between.
    staleTime: Infinity,
    gcTime: 0,
  });
  const ready = start.data !== undefined && runs.isSuccess;

  useEffect(() => {
    if (!ready || start.data === undefined) return;
    let token = start.data;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const poll = async () => {
      let delay = CHANGES_POLL_MS;
      try {
        const changes = await api<Changes>(changesPath(filters, token));
        if (stopped) return;
        token = changes.nextToken;
        if (changes.data.length > 0) {
          queryClient.setQueryData<InfiniteData<Page<Run>, string | null>>(['runs', filters], (old) =>
            old ? { ...old, pages: mergeRunChanges(old.pages, changes.data, (run) => runMatches(run, filters)) } : old,
          );
        }
        if (changes.data.length >= CHANGES_LIMIT) delay = 0;
      } catch {
        // A failed poll is tried again at the next tick; a 401 has already signed out.
      }
      if (!stopped) timer = setTimeout(() => void poll(), delay);
    };
    timer = setTimeout(() => void poll(), CHANGES_POLL_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [ready, start.data, filters, queryClient]);

  return { runs, error: start.error ?? runs.error, isPending: start.isPending || runs.isPending };
}

export interface RunStats {
  workflowId: string;
  counts: Record<RunStatus, number>;
}

/** Runs of the last 24 h by status for the workflows on a page, in one request. */
export function useRunStats(workflowIds: string[]) {
  return useQuery({
    queryKey: ['run-stats', workflowIds],
    queryFn: () =>
      api<{ data: RunStats[] }>(
        `/v1/workflow-run-stats?workflowIds=${workflowIds.map(encodeURIComponent).join(',')}&hours=24`,
      ).then((r) => new Map(r.data.map((s) => [s.workflowId, s.counts] as const))),
    enabled: workflowIds.length > 0,
    staleTime: 10_000,
  });
}
