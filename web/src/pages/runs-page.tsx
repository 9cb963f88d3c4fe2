import { useMemo } from 'preact/hooks';
import { useLocation } from 'preact-iso';

import { useWorkflows } from '../api/queries';
import { useLiveRuns } from '../api/run-queries';
import { RUN_STATUSES, type RunStatus, type Workflow } from '../api/types';
import { ErrorMessage } from '../components/error-message';
import { StatusBadge } from '../components/status-badge';
import { durationBetween, formatAgo, formatTime, shortId } from '../lib/format';
import {
  filtersFromQuery,
  fromLocalInput,
  hasFilters,
  runsQueryString,
  toLocalInput,
  TRIGGER_TYPES,
  type RunFilters,
  type TriggerType,
} from '../lib/run-filters';
import { signingSnippets } from '../lib/signing-snippets';
import { useNow } from '../lib/use-now';

export function RunsPage() {
  const { query, route } = useLocation();
  const filters = useMemo(() => filtersFromQuery(query), [query]);
  const setFilters = (next: RunFilters) => {
    const search = runsQueryString(next);
    route(`/console/runs${search ? `?${search}` : ''}`, true);
  };
  const { runs, error, isPending } = useLiveRuns(filters);
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
        <label>
          Trigger
          <select
            value={filters.triggerType ?? ''}
            onChange={(event) =>
              setFilters({
                ...filters,
                triggerType: (event.currentTarget.value || undefined) as TriggerType | undefined,
              })
            }
          >
            <option value="">Any trigger</option>
            {TRIGGER_TYPES.map((type) => (
              <option key={type} value={type}>
                {type}
              </option>
            ))}
          </select>
        </label>
        <fieldset class="created-between">
          <legend>Created between</legend>
          <label>
            Created from
            <input
              type="datetime-local"
              step={1}
              value={toLocalInput(filters.createdFrom)}
              onChange={(event) => setFilters({ ...filters, createdFrom: fromLocalInput(event.currentTarget.value) })}
            />
          </label>
          <label>
            Created before
            <input
              type="datetime-local"
              step={1}
              value={toLocalInput(filters.createdTo)}
              onChange={(event) => setFilters({ ...filters, createdTo: fromLocalInput(event.currentTarget.value) })}
            />
          </label>
        </fieldset>
        {hasFilters(filters) && (
          <button type="button" class="secondary" onClick={() => setFilters({})}>
            Clear filters
          </button>
        )}
      </form>
      <ErrorMessage error={error} />
      {isPending ? (
        <p>Loading runs…</p>
      ) : rows.length === 0 ? (
        hasFilters(filters) ? (
          <p class="empty">No runs with these filters.</p>
        ) : (
          <NoRunsYet workflows={workflows.data?.data} />
        )
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

/** With no run at all, the next step: send a signed delivery to the first trigger, or make a workflow first. */
function NoRunsYet({ workflows }: { workflows: Workflow[] | undefined }) {
  const withTrigger = workflows?.find((w) => w.webhookTrigger);
  if (!withTrigger?.webhookTrigger) {
    return (
      <div class="empty">
        <p>
          No runs yet. Runs start when a signed webhook arrives or when the API starts one.{' '}
          {workflows && workflows.length > 0 ? (
            <>
              Give a workflow a webhook trigger on its page, under <a href="/console/workflows">Workflows</a>.
            </>
          ) : (
            <>
              First <a href="/console/workflows">create a workflow</a>.
            </>
          )}
        </p>
      </div>
    );
  }
  const { url, scheme } = withTrigger.webhookTrigger;
  return (
    <div class="empty">
      <p>
        No runs yet. Send a signed delivery to the webhook URL of{' '}
        <a href={`/console/workflows/${withTrigger.id}`}>{withTrigger.name}</a>:
      </p>
      <p>
        <code>{url}</code>
      </p>
      {scheme === 'standard-webhooks' ? (
        <>
          <p>With curl and openssl (Standard Webhooks), using the trigger&apos;s secret:</p>
          <pre tabIndex={0} aria-label="Signing snippet">
            {signingSnippets({ url, scheme })?.curl}
          </pre>
        </>
      ) : (
        <p>Its scheme is {scheme}: sign as that sender does, or use the workflow page to send a test delivery.</p>
      )}
    </div>
  );
}
