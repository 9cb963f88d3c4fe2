import { useMutation, useQueryClient } from '@tanstack/preact-query';
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';

import { api } from '../api/client';
import { isActive, useRun, useWorkflows } from '../api/queries';
import type { Run } from '../api/types';
import { ConfirmDialog } from '../components/confirm-dialog';
import { ErrorMessage } from '../components/error-message';
import { JsonBlock } from '../components/json-block';
import { JsonSearchBlock } from '../components/json-search-block';
import { StatusBadge } from '../components/status-badge';
import { StepWaterfall } from '../components/step-waterfall';
import { durationBetween, formatTime, shortId } from '../lib/format';
import { stepEnd } from '../lib/run-steps';
import { useNow } from '../lib/use-now';

type Action = 'cancel' | 'retry' | 'rerun';

const ACTIONS: Record<Action, { label: string; title: string; message: string; allowed: (run: Run) => boolean }> = {
  cancel: {
    label: 'Cancel run',
    title: 'Cancel this run?',
    message: 'Its remaining steps will not run. A step already running finishes first.',
    allowed: (run) => isActive(run),
  },
  retry: {
    label: 'Retry from failed step',
    title: 'Retry from the failed step?',
    message: 'The run goes on from its failed step, keeping the outputs of the steps that completed.',
    allowed: (run) => run.status === 'failed',
  },
  rerun: {
    label: 'Rerun',
    title: 'Start a new run with the same input?',
    message: 'A new run of the same workflow version starts with this input; this run stays as it is.',
    allowed: (run) => !isActive(run),
  },
};

export function RunPage({ id }: { id: string }) {
  const run = useRun(id);
  const workflows = useWorkflows();
  const queryClient = useQueryClient();
  const { route } = useLocation();
  const [pending, setPending] = useState<Action | null>(null);
  const now = useNow(isActive(run.data) ? 1000 : 60_000);

  const act = useMutation({
    mutationFn: (action: Action) =>
      api<{ data: Run }>(`/v1/workflow-runs/${encodeURIComponent(id)}/${action}`, { method: 'POST' }),
    onSuccess: async (result, action) => {
      setPending(null);
      await queryClient.invalidateQueries({ queryKey: ['runs'] });
      if (action === 'rerun') route(`/console/runs/${result.data.id}`);
      else queryClient.setQueryData(['run', id], result.data);
    },
    onError: () => setPending(null),
  });

  if (run.isPending) return <p>Loading run…</p>;
  if (run.error) return <ErrorMessage error={run.error} />;
  const data = run.data;
  const workflow = workflows.data?.data.find((w) => w.id === data.workflowId);

  return (
    <section>
      <p>
        <a href="/console/runs">← Runs</a>
      </p>
      <h1>
        Run {shortId(data.id)} <StatusBadge status={data.status} />
      </h1>
      <div class="actions">
        {(Object.keys(ACTIONS) as Action[])
          .filter((action) => ACTIONS[action].allowed(data))
          .map((action) => (
            <button
              key={action}
              type="button"
              class={action === 'cancel' ? 'danger' : ''}
              onClick={() => setPending(action)}
            >
              {ACTIONS[action].label}
            </button>
          ))}
      </div>
      <ErrorMessage error={act.error} />
      <dl class="facts">
        <dt>Workflow</dt>
        <dd>
          <a href={`/console/workflows/${data.workflowId}`}>{workflow?.name ?? shortId(data.workflowId)}</a> (version{' '}
          {data.workflowVersion})
        </dd>
        <dt>Trigger</dt>
        <dd>
          {data.trigger.type}
          {data.trigger.webhookId && (
            <>
              {' '}
              · webhook id <code>{data.trigger.webhookId}</code>
            </>
          )}
          {data.trigger.type === 'webhook' && (
            <>
              {' '}
              · delivery <code>{shortId(data.id)}</code> in the{' '}
              <a href={`/console/workflows/${data.workflowId}#deliveries-heading`}>delivery log</a>
            </>
          )}
          {data.trigger.idempotencyKey && (
            <>
              {' '}
              · idempotency key <code>{data.trigger.idempotencyKey}</code>
            </>
          )}
          {data.rerunOf && (
            <>
              {' '}
              · rerun of <a href={`/console/runs/${data.rerunOf}`}>{shortId(data.rerunOf)}</a>
            </>
          )}
        </dd>
        <dt>Created</dt>
        <dd>{formatTime(data.createdAt)}</dd>
        <dt>Started</dt>
        <dd>{formatTime(data.startedAt)}</dd>
        <dt>Finished</dt>
        <dd>{formatTime(data.completedAt)}</dd>
        <dt>Duration</dt>
        <dd>{durationBetween(data.startedAt, data.completedAt)}</dd>
        <dt>Run id</dt>
        <dd>
          <code>{data.id}</code>
        </dd>
      </dl>
      {data.error && (
        <p class="error" role="status">
          Failed{data.error.stepId ? ` at step ${data.error.stepId}` : ''}: {data.error.message} ({data.error.code})
        </p>
      )}
      <h2>Steps</h2>
      <StepWaterfall run={data} now={now} />
      <ol class="steps">
        {data.steps.map((step) => (
          <li key={step.id} class="step">
            <h3>
              {step.id} <span class="muted">{step.type}</span> <StatusBadge status={step.status} />
            </h3>
            <p class="muted">
              {step.attempts} {step.attempts === 1 ? 'attempt' : 'attempts'} ·{' '}
              {durationBetween(step.startedAt, stepEnd(step, data))}
            </p>
            {step.error && (
              <p class="error">
                {step.error.message} ({step.error.code})
              </p>
            )}
            {step.output !== null && step.output !== undefined && (
              <JsonBlock label={`Output of ${step.id}`} value={step.output} />
            )}
          </li>
        ))}
      </ol>
      <h2>Input and output</h2>
      <JsonSearchBlock label="Input" value={data.input} />
      <JsonSearchBlock label="Output" value={data.output} />
      {pending && (
        <ConfirmDialog
          open
          title={ACTIONS[pending].title}
          message={ACTIONS[pending].message}
          confirmLabel={ACTIONS[pending].label}
          busy={act.isPending}
          onConfirm={() => act.mutate(pending)}
          onClose={() => setPending(null)}
        />
      )}
    </section>
  );
}
