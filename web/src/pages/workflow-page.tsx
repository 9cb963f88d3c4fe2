import { useWorkflow } from '../api/queries';
import { ErrorMessage } from '../components/error-message';
import { JsonBlock } from '../components/json-block';
import { formatTime } from '../lib/format';

// TODO(issue 14): definition editor with validation errors, versions with diff and restore, enable/disable,
// the trigger panel (copy URL, rotate, signing snippets) and "Send test delivery" (wt14-api's endpoint).
export function WorkflowPage({ id }: { id: string }) {
  const workflow = useWorkflow(id);
  if (workflow.isPending) return <p>Loading workflow…</p>;
  if (workflow.error) return <ErrorMessage error={workflow.error} />;
  const w = workflow.data;
  return (
    <section>
      <p>
        <a href="/console/workflows">← Workflows</a>
      </p>
      <h1>{w.name}</h1>
      {w.description && <p>{w.description}</p>}
      <dl class="facts">
        <dt>Enabled</dt>
        <dd>{w.enabled ? 'yes' : 'no'}</dd>
        <dt>Version</dt>
        <dd>{w.version}</dd>
        <dt>Updated</dt>
        <dd>{formatTime(w.updatedAt)}</dd>
        <dt>Webhook URL</dt>
        <dd>{w.webhookTrigger ? <code class="wrap">{w.webhookTrigger.url}</code> : 'No webhook trigger'}</dd>
        <dt>Scheme</dt>
        <dd>{w.webhookTrigger?.scheme ?? '—'}</dd>
      </dl>
      <p>
        <a href={`/console/runs?workflowId=${encodeURIComponent(w.id)}`}>See its runs</a>
      </p>
      <JsonBlock label="Definition" value={w.definition} />
    </section>
  );
}
