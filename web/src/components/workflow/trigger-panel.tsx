import { useState } from 'preact/hooks';

import type { Workflow } from '../../api/types';
import {
  WEBHOOK_SCHEMES,
  useCreateTrigger,
  useRotateSecret,
  useTestDelivery,
  useTrigger,
  useUpdateTrigger,
  type WebhookTrigger,
} from '../../api/workflow-queries';
import { deliveryReason } from '../../lib/delivery-reason';
import { formatTime } from '../../lib/format';
import { signingSnippets } from '../../lib/signing-snippets';
import { ConfirmDialog } from '../confirm-dialog';
import { ErrorMessage } from '../error-message';
import { CodeEditor } from './code-editor';
import { CopyButton } from './copy-button';
import { SecretOnce } from './secret-once';

/** Schemes whose provider makes the secret: it has to be pasted in. */
const PROVIDER_SECRET = new Set(['github', 'stripe', 'slack', 'shopify']);

interface ShownSecret {
  secret: string;
  note?: string;
}

function CreateTrigger({ workflowId, onCreated }: { workflowId: string; onCreated: (shown: ShownSecret) => void }) {
  const create = useCreateTrigger(workflowId);
  const [scheme, setScheme] = useState<string>(WEBHOOK_SCHEMES[0]);
  const [tolerance, setTolerance] = useState('300');
  const [secret, setSecret] = useState('');
  return (
    <form
      class="trigger-form"
      onSubmit={(event) => {
        event.preventDefault();
        // mutateAsync: a per-call onSuccess would be dropped, since this form unmounts once the trigger exists.
        void create
          .mutateAsync({
            scheme,
            toleranceSeconds: Number(tolerance),
            ...(PROVIDER_SECRET.has(scheme) || secret ? { secret } : {}),
          })
          .then((t) => onCreated({ secret: t.secret }));
      }}
    >
      <p>No webhook trigger yet: create one to get a URL that starts this workflow.</p>
      <div>
        <label for="trigger-scheme">Scheme</label>
        <select id="trigger-scheme" value={scheme} onChange={(e) => setScheme(e.currentTarget.value)}>
          {WEBHOOK_SCHEMES.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label for="trigger-tolerance">Tolerance (seconds)</label>
        <input
          id="trigger-tolerance"
          type="number"
          min={1}
          max={86400}
          value={tolerance}
          required
          onInput={(e) => setTolerance(e.currentTarget.value)}
        />
      </div>
      {PROVIDER_SECRET.has(scheme) && (
        <div>
          <label for="trigger-secret">Provider's signing secret</label>
          <input
            id="trigger-secret"
            type="password"
            value={secret}
            required
            autocomplete="off"
            onInput={(e) => setSecret(e.currentTarget.value)}
          />
        </div>
      )}
      <button type="submit" disabled={create.isPending}>
        Create webhook trigger
      </button>
      <ErrorMessage error={create.error} />
    </form>
  );
}

function RotateSecret({ workflowId, onRotated }: { workflowId: string; onRotated: (shown: ShownSecret) => void }) {
  const rotate = useRotateSecret(workflowId);
  const [grace, setGrace] = useState('86400');
  const [confirming, setConfirming] = useState(false);
  return (
    <div class="inline-form">
      <label for="grace-period">Grace period (seconds)</label>
      <input
        id="grace-period"
        type="number"
        min={0}
        max={604800}
        value={grace}
        onInput={(e) => setGrace(e.currentTarget.value)}
      />
      <button type="button" class="secondary" onClick={() => setConfirming(true)}>
        Rotate secret
      </button>
      <ErrorMessage error={rotate.error} />
      {confirming && (
        <ConfirmDialog
          open
          title="Rotate the secret?"
          message={
            Number(grace) === 0
              ? 'The current secret stops verifying at once: senders still using it are rejected.'
              : `The current secret keeps verifying for ${grace} seconds, then only the new one does.`
          }
          confirmLabel="Rotate secret"
          busy={rotate.isPending}
          onConfirm={() =>
            rotate.mutate(Number(grace), {
              onSuccess: (r) =>
                onRotated({
                  secret: r.secret,
                  note: `The previous secret verifies until ${formatTime(r.previousSecretExpiresAt)}.`,
                }),
              onSettled: () => setConfirming(false),
            })
          }
          onClose={() => setConfirming(false)}
        />
      )}
    </div>
  );
}

function TestDelivery({ workflowId }: { workflowId: string }) {
  const send = useTestDelivery(workflowId);
  const [text, setText] = useState('{\n  "name": "Ada"\n}');
  const [parseError, setParseError] = useState<string | null>(null);
  const result = send.data;
  return (
    <section aria-labelledby="test-delivery-heading">
      <h3 id="test-delivery-heading">Send test delivery</h3>
      <p class="muted">hookrun signs this body with the trigger's own secret and scheme and sends it to the URL.</p>
      <CodeEditor id="test-delivery-body" label="Test delivery body (JSON)" value={text} rows={5} onChange={setText} />
      <div class="actions">
        <button
          type="button"
          disabled={send.isPending}
          onClick={() => {
            try {
              const body: unknown = JSON.parse(text);
              setParseError(null);
              send.mutate(body);
            } catch (error) {
              setParseError(`Not valid JSON: ${(error as Error).message}`);
            }
          }}
        >
          Send
        </button>
      </div>
      <ErrorMessage error={parseError ? new Error(parseError) : send.error} />
      {result && !send.isPending && (
        <p role="status">
          Outcome: {deliveryReason(result.deliveryOutcome, result.errorCode ?? null)} (HTTP {result.status})
          {result.runId && (
            <>
              {' '}
              <a href={`/console/runs/${encodeURIComponent(result.runId)}`}>Open the run it started</a>
            </>
          )}
        </p>
      )}
    </section>
  );
}

function Snippets({ trigger, secret }: { trigger: WebhookTrigger; secret?: string }) {
  const [open, setOpen] = useState(false);
  const snippets = signingSnippets({ url: trigger.url, scheme: trigger.scheme, secret });
  // Rendered only when open, so the page holds the URL once until someone asks for the snippets.
  return (
    <details class="snippets" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Signing snippets</summary>
      {!open ? null : snippets ? (
        <>
          <p class="muted">
            {secret
              ? 'Filled in with the secret just shown.'
              : 'Replace the placeholder with your secret (or set HOOKRUN_SECRET for the Node one).'}
          </p>
          {(
            [
              ['curl + openssl', snippets.curl],
              ['Node', snippets.node],
            ] as const
          ).map(([name, code]) => (
            <div key={name}>
              <h4>{name}</h4>
              <pre tabIndex={0} aria-label={`${name} snippet`}>
                {code}
              </pre>
              <CopyButton text={code} label={`Copy the ${name} snippet`} />
            </div>
          ))}
        </>
      ) : (
        <p>The {trigger.scheme} scheme is signed by its provider: paste this URL into its webhook settings.</p>
      )}
    </details>
  );
}

/** An empty filter is saved as none: every verified delivery starts a run. */
function FilterEditor({ workflowId, trigger }: { workflowId: string; trigger: WebhookTrigger }) {
  const update = useUpdateTrigger(workflowId);
  const [text, setText] = useState(trigger.filter ?? '');
  const filter = text.trim() === '' ? null : text;
  return (
    <form
      class="inline-form filter-form"
      onSubmit={(event) => {
        event.preventDefault();
        update.mutate({ filter });
      }}
    >
      <label for="trigger-filter">Filter (JSONata)</label>
      <input
        id="trigger-filter"
        type="text"
        value={text}
        maxLength={4096}
        spellcheck={false}
        autocomplete="off"
        placeholder='e.g. headers."x-github-event" = "push"'
        aria-describedby="trigger-filter-help"
        onInput={(e) => setText(e.currentTarget.value)}
      />
      <button type="submit" class="secondary" disabled={update.isPending || filter === trigger.filter}>
        Save
      </button>
      <p id="trigger-filter-help" class="muted">
        Over <code>{'{ body, headers }'}</code>: a delivery for which it is not truthy starts no run. Empty: no filter.
      </p>
      <ErrorMessage error={update.error} />
    </form>
  );
}

function TriggerDetails({ workflowId, trigger }: { workflowId: string; trigger: WebhookTrigger }) {
  const update = useUpdateTrigger(workflowId);
  const options = Object.entries(trigger.options ?? {});
  return (
    <>
      <dl class="facts">
        <dt>Webhook URL</dt>
        <dd>
          <code class="wrap" aria-label="Webhook URL">
            {trigger.url}
          </code>{' '}
          <CopyButton text={trigger.url} label="Copy the webhook URL" />
        </dd>
        <dt>Scheme</dt>
        <dd>{trigger.scheme}</dd>
        {options.map(([key, value]) => [
          <dt key={`${key}-k`}>{key}</dt>,
          <dd key={`${key}-v`}>
            <code>{typeof value === 'string' ? value : JSON.stringify(value)}</code>
          </dd>,
        ])}
        <dt>Tolerance</dt>
        <dd>{trigger.toleranceSeconds} s</dd>
        <dt>Filter</dt>
        <dd>
          {trigger.filter ? <code class="wrap">{trigger.filter}</code> : 'none: every verified delivery starts a run'}
        </dd>
        <dt>Trigger</dt>
        <dd>{trigger.enabled ? 'enabled' : 'disabled: its URL answers 404'}</dd>
      </dl>
      <div class="actions">
        <button
          type="button"
          class={trigger.enabled ? 'danger' : undefined}
          disabled={update.isPending}
          onClick={() => update.mutate({ enabled: !trigger.enabled })}
        >
          {trigger.enabled ? 'Disable trigger' : 'Enable trigger'}
        </button>
      </div>
      <ErrorMessage error={update.error} />
      <FilterEditor workflowId={workflowId} trigger={trigger} />
    </>
  );
}

export function TriggerPanel({ workflow }: { workflow: Workflow }) {
  const exists = workflow.webhookTrigger !== null;
  const trigger = useTrigger(workflow.id, exists);
  const [shown, setShown] = useState<ShownSecret | null>(null);
  return (
    <section aria-labelledby="trigger-heading" class="trigger-panel">
      <h2 id="trigger-heading">Webhook trigger</h2>
      {shown && <SecretOnce secret={shown.secret} note={shown.note} onDone={() => setShown(null)} />}
      {!exists ? (
        <CreateTrigger workflowId={workflow.id} onCreated={setShown} />
      ) : trigger.isPending ? (
        <p>Loading trigger…</p>
      ) : trigger.error ? (
        <ErrorMessage error={trigger.error} />
      ) : (
        <>
          <TriggerDetails workflowId={workflow.id} trigger={trigger.data} />
          <RotateSecret workflowId={workflow.id} onRotated={setShown} />
          <TestDelivery workflowId={workflow.id} />
          <Snippets trigger={trigger.data} secret={shown?.secret} />
        </>
      )}
    </section>
  );
}
