import { useLayoutEffect, useRef, useState } from 'preact/hooks';

import type { Workflow } from '../../api/types';
import { useUpdateWorkflow } from '../../api/workflow-queries';
import { ErrorMessage } from '../error-message';
import { prettyJson } from '../../lib/line-diff';
import { DefinitionCodeEditor } from './definition-code-editor';

export function DefinitionEditor({ workflow }: { workflow: Workflow }) {
  const original = prettyJson(workflow.definition);
  const [text, setText] = useState(original);
  const [parseError, setParseError] = useState<string | null>(null);
  const [saved, setSaved] = useState<number | null>(null);
  const update = useUpdateWorkflow(workflow.id);

  const shown = useRef(original);

  // A restore makes a new version: show it, unless the person is mid-edit.
  useLayoutEffect(() => {
    if (text === shown.current) setText(original);
    shown.current = original;
  }, [original]);

  const save = () => {
    setSaved(null);
    let definition: unknown;
    try {
      definition = JSON.parse(text);
    } catch (error) {
      setParseError(`Not valid JSON: ${(error as Error).message}`);
      return;
    }
    setParseError(null);
    update.mutate(
      { definition },
      {
        onSuccess: (w) => {
          shown.current = prettyJson(w.definition);
          setText(shown.current);
          setSaved(w.version);
        },
      },
    );
  };

  const error = parseError ? new Error(parseError) : update.error;
  return (
    <section aria-labelledby="definition-heading">
      <h2 id="definition-heading">Definition</h2>
      <DefinitionCodeEditor
        id="definition"
        label="Definition (JSON)"
        value={text}
        describedBy={error ? 'definition-error' : undefined}
        onChange={(value) => {
          setText(value);
          setSaved(null);
        }}
      />
      <div id="definition-error">
        <ErrorMessage error={error} />
      </div>
      <div class="actions">
        <button type="button" onClick={save} disabled={update.isPending || text === original}>
          Save definition
        </button>
        <button type="button" class="secondary" onClick={() => setText(original)} disabled={text === original}>
          Discard changes
        </button>
        {saved !== null && (
          <span role="status" class="muted">
            Saved as version {saved}
          </span>
        )}
      </div>
    </section>
  );
}
