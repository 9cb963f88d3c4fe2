import { useMutation, useQueryClient } from '@tanstack/preact-query';
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';

import { api } from '../api/client';
import { useWorkflows } from '../api/queries';
import { useRunStats } from '../api/run-queries';
import { RUN_STATUSES, type RunStatus, type Workflow } from '../api/types';
import { ErrorMessage } from '../components/error-message';
import { NewWorkflowForm } from '../components/workflow/new-workflow-form';
import '../components/workflow/workflow.css';
import { EXAMPLE_WORKFLOW } from '../lib/example-workflow';
import { formatTime } from '../lib/format';

export function WorkflowsPage() {
  const workflows = useWorkflows();
  const queryClient = useQueryClient();
  const { route } = useLocation();
  const [creating, setCreating] = useState(false);

  const createExample = useMutation({
    mutationFn: async () => {
      const created = await api<{ data: Workflow }>('/v1/workflows', { method: 'POST', body: EXAMPLE_WORKFLOW });
      await api(`/v1/workflows/${created.data.id}/trigger/webhook`, { method: 'POST', body: {} });
      return created.data;
    },
    onSuccess: async (workflow) => {
      await queryClient.invalidateQueries({ queryKey: ['workflows'] });
      route(`/console/workflows/${workflow.id}`);
    },
  });

  const list = workflows.data?.data ?? [];
  const stats = useRunStats(list.map((w) => w.id));
  return (
    <section>
      <div class="page-head">
        <h1>Workflows</h1>
        {!creating && (
          <button type="button" onClick={() => setCreating(true)}>
            New workflow
          </button>
        )}
      </div>
      {creating && <NewWorkflowForm onCancel={() => setCreating(false)} />}
      <ErrorMessage error={workflows.error ?? createExample.error} />
      {workflows.isPending ? (
        <p>Loading workflows…</p>
      ) : list.length === 0 ? (
        <div class="empty">
          <p>
            No workflows yet. Start with the README&apos;s example: a workflow that greets <code>input.name</code>, with
            a webhook trigger. Or write your own with <strong>New workflow</strong>.
          </p>
          <button type="button" onClick={() => createExample.mutate()} disabled={createExample.isPending}>
            Create from example
          </button>
        </div>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Enabled</th>
                <th scope="col">Version</th>
                <th scope="col">Trigger</th>
                <th scope="col">Runs (24 h)</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {list.map((w) => (
                <tr key={w.id}>
                  <td data-label="Name">
                    <a href={`/console/workflows/${w.id}`}>{w.name}</a>
                  </td>
                  <td data-label="Enabled">{w.enabled ? 'yes' : 'no'}</td>
                  <td data-label="Version">{w.version}</td>
                  <td data-label="Trigger">{w.webhookTrigger ? w.webhookTrigger.scheme : 'none'}</td>
                  <td data-label="Runs (24 h)">
                    <RunCounts counts={stats.data?.get(w.id)} loading={stats.isPending} />
                  </td>
                  <td data-label="Updated">{formatTime(w.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function RunCounts({ counts, loading }: { counts: Record<RunStatus, number> | undefined; loading: boolean }) {
  if (!counts) return <span class="muted">{loading ? '…' : '—'}</span>;
  const shown = RUN_STATUSES.filter((status) => counts[status] > 0);
  if (shown.length === 0) return <span class="muted">none</span>;
  return (
    <ul class="run-counts">
      {shown.map((status) => (
        <li key={status}>
          {counts[status]} {status}
        </li>
      ))}
    </ul>
  );
}
