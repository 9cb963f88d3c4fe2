import { useWorkflow } from '../api/queries';
import { useUpdateWorkflow } from '../api/workflow-queries';
import { ErrorMessage } from '../components/error-message';
import { DefinitionEditor } from '../components/workflow/definition-editor';
import { DeliveriesPanel } from '../components/workflow/deliveries-panel';
import { TriggerPanel } from '../components/workflow/trigger-panel';
import { VersionsPanel } from '../components/workflow/versions-panel';
import '../components/workflow/workflow.css';
import { formatTime } from '../lib/format';

export function WorkflowPage({ id }: { id: string }) {
  const workflow = useWorkflow(id);
  const update = useUpdateWorkflow(id);
  if (workflow.isPending) return <p>Loading workflow…</p>;
  if (workflow.error) return <ErrorMessage error={workflow.error} />;
  const w = workflow.data;
  const enabled = update.isPending && update.variables.enabled !== undefined ? update.variables.enabled : w.enabled;
  return (
    <section>
      <p>
        <a href="/console/workflows">← Workflows</a>
      </p>
      <h1>{w.name}</h1>
      {w.description && <p>{w.description}</p>}
      <dl class="facts">
        <dt>Version</dt>
        <dd>{w.version}</dd>
        <dt>Updated</dt>
        <dd>{formatTime(w.updatedAt)}</dd>
      </dl>
      <div class="inline-form">
        <input
          id="workflow-enabled"
          type="checkbox"
          checked={enabled}
          disabled={update.isPending}
          onChange={(e) => update.mutate({ enabled: e.currentTarget.checked })}
        />
        <label for="workflow-enabled">Workflow enabled</label>
        <span class="muted">{enabled ? 'Deliveries and API calls start runs.' : 'Starts no run while disabled.'}</span>
      </div>
      <ErrorMessage error={update.error} />
      <p>
        <a href={`/console/runs?workflowId=${encodeURIComponent(w.id)}`}>See its runs</a>
      </p>
      <DefinitionEditor workflow={w} />
      <VersionsPanel workflowId={w.id} current={w.version} />
      <TriggerPanel workflow={w} />
      <DeliveriesPanel workflowId={w.id} hasTrigger={w.webhookTrigger !== null} />
    </section>
  );
}
