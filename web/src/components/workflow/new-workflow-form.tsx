import { useMutation, useQueryClient } from '@tanstack/preact-query';
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';

import { api } from '../../api/client';
import type { Workflow } from '../../api/types';
import { prettyJson } from '../../lib/line-diff';
import { ErrorMessage } from '../error-message';
import { DefinitionCodeEditor } from './definition-code-editor';

/** A start that validates as is: one transform step and an output. */
const STARTER_DEFINITION = prettyJson({
  steps: [{ id: 'hello', type: 'transform', expression: '{ "received": input }' }],
  output: 'steps.hello.output',
});

/** Name and definition, checked by the API: its validation errors are listed under the editor. */
export function NewWorkflowForm({ onCancel }: { onCancel: () => void }) {
  const queryClient = useQueryClient();
  const { route } = useLocation();
  const [name, setName] = useState('');
  const [text, setText] = useState(STARTER_DEFINITION);
  const [parseError, setParseError] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: (body: { name: string; definition: unknown }) =>
      api<{ data: Workflow }>('/v1/workflows', { method: 'POST', body }).then((r) => r.data),
    onSuccess: async (workflow) => {
      await queryClient.invalidateQueries({ queryKey: ['workflows'] });
      route(`/console/workflows/${workflow.id}`);
    },
  });

  const submit = (event: Event) => {
    event.preventDefault();
    let definition: unknown;
    try {
      definition = JSON.parse(text);
    } catch (error) {
      setParseError(`Not valid JSON: ${(error as Error).message}`);
      return;
    }
    setParseError(null);
    create.mutate({ name: name.trim(), definition });
  };

  const error = parseError ? new Error(parseError) : create.error;
  return (
    <form class="new-workflow" aria-labelledby="new-workflow-heading" onSubmit={submit}>
      <h2 id="new-workflow-heading">New workflow</h2>
      <div>
        <label for="new-workflow-name">Name</label>
        <input
          id="new-workflow-name"
          value={name}
          required
          maxLength={200}
          autocomplete="off"
          onInput={(e) => setName(e.currentTarget.value)}
        />
      </div>
      <DefinitionCodeEditor
        id="new-workflow-definition"
        label="Definition (JSON)"
        value={text}
        describedBy={error ? 'new-workflow-error' : undefined}
        onChange={setText}
      />
      <div id="new-workflow-error">
        <ErrorMessage error={error} />
      </div>
      <div class="actions">
        <button type="submit" disabled={create.isPending}>
          Create workflow
        </button>
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
