import { useMemo } from 'preact/hooks';
import { useLocation } from 'preact-iso';

import { useRuns, useWorkflows } from '../api/queries';
import { RUN_STATUSES, type RunStatus } from '../api/types';
import { ErrorMessage } from '../components/error-message';
import { StatusBadge } from '../components/status-badge';
import { durationBetween, formatAgo, formatTime, shortId } from '../lib/format';
import { filtersFromQuery, runsQueryString, type RunFilters } from '../lib/run-filters';
import { useNow } from '../lib/use-now';

export function RunsPage() {
  const { query, route } = useLocation();
  const filters = useMemo(() => filtersFromQuery(query), [query]);
  const setFilters = (next: RunFilters) => {
    const search = runsQueryString(next);
    route(`/console/runs${search ? `?${search}` : ''}`, true);
  };
  const runs = useRuns(filters);
  const now = useNow(5000);
  const workflows = useWorkflows();
  const names = useMemo(
    () => new Map((workflows.data?.data ?? []).map((w) => [w.id, w.name] as const)),
    [workflows.data],
  );
  const rows = runs.data?.pages.flatMap((page) => page.data) ?? [];

  return (
    <section>
      <h1>Runs</h1>
      <form class="filters" onSubmit={(event) => event.preventDefault()}>
        <label>
          Status
          <select
            value={filters.status ?? ''}
            onChange={(event) =>
              setFilters({ ...filters, status: (event.currentTarget.value || undefined) as RunStatus | undefined })
            }
          >
            <option value="">Any status</option>
            {RUN_STATUSES.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
        </label>
        <label>
          Workflow
          <select
            value={filters.workflowId ?? ''}
            onChange={(event) => setFilters({ ...filters, workflowId: event.currentTarget.value || undefined })}
          >
            <option value="">Any workflow</option>
            {(workflows.data?.data ?? []).map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
      </form>
      <ErrorMessage error={runs.error} />
      {runs.isPending ? (
        <p>Loading runs…</p>
      ) : rows.length === 0 ? (
        <p class="empty">
          No runs yet{filters.status || filters.workflowId ? ' with these filters' : ''}. Runs start when a signed
          webhook arrives or when the API starts one; see <a href="/console/workflows">Workflows</a> for their URLs.
        </p>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Runs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Workflow</th>
                <th scope="col">Status</th>
                <th scope="col">Trigger</th>
                <th scope="col">Started</th>
                <th scope="col">Duration</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((run) => (
                <tr key={run.id}>
                  <td data-label="Run">
                    <a href={`/console/runs/${run.id}`} aria-label={`Run ${shortId(run.id)}`}>
                      {shortId(run.id)}
                    </a>
                  </td>
                  <td data-label="Workflow">{names.get(run.workflowId) ?? shortId(run.workflowId)}</td>
                  <td data-label="Status">
                    <StatusBadge status={run.status} />
                  </td>
                  <td data-label="Trigger">{run.trigger.type}</td>
                  <td data-label="Started" title={formatTime(run.startedAt ?? run.createdAt)}>
                    {formatAgo(run.startedAt ?? run.createdAt, now)}
                  </td>
                  <td data-label="Duration">{durationBetween(run.startedAt, run.completedAt, now)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {runs.hasNextPage && (
        <button
          type="button"
          class="secondary"
          onClick={() => void runs.fetchNextPage()}
          disabled={runs.isFetchingNextPage}
        >
          {runs.isFetchingNextPage ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}
