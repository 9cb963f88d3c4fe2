import { useMutation, useQueryClient } from '@tanstack/preact-query';
import { useLocation } from 'preact-iso';

import { api } from '../api/client';
import { useWorkflows } from '../api/queries';
import type { Workflow } from '../api/types';
import { ErrorMessage } from '../components/error-message';
import { EXAMPLE_WORKFLOW } from '../lib/example-workflow';
import { formatTime } from '../lib/format';

export function WorkflowsPage() {
  const workflows = useWorkflows();
  const queryClient = useQueryClient();
  const { route } = useLocation();

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
  return (
    <section>
      <h1>Workflows</h1>
      <ErrorMessage error={workflows.error ?? createExample.error} />
      {workflows.isPending ? (
        <p>Loading workflows…</p>
      ) : list.length === 0 ? (
        <div class="empty">
          <p>
            No workflows yet. Start with the README&apos;s example: a workflow that greets <code>input.name</code>, with
            a webhook trigger.
          </p>
          <button type="button" onClick={() => createExample.mutate()} disabled={createExample.isPending}>
            Create from example
          </button>
        </div>
      ) : (
        <div class="table-wrap">
          {/* TODO(issue 14, wt14-api): runs in the last 24 h by status, from the per-workflow stats endpoint. */}
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Enabled</th>
                <th scope="col">Version</th>
                <th scope="col">Trigger</th>
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
