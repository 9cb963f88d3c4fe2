import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

import type { JsonEditor } from './json-editor';
import { CodeEditor } from './code-editor';

interface DefinitionCodeEditorProps {
  id: string;
  label: string;
  value: string;
  describedBy?: string;
  onChange: (value: string) => void;
}

/**
 * A CodeMirror JSON editor, loaded on first use. Until it has loaded (or if loading fails) the plain
 * textarea stands in, so the definition can always be edited.
 */
export function DefinitionCodeEditor({ id, label, value, describedBy, onChange }: DefinitionCodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<JsonEditor | null>(null);
  const latest = useRef({ value, describedBy, onChange });
  latest.current = { value, describedBy, onChange };
  const [state, setState] = useState<'loading' | 'ready' | 'failed'>('loading');

  useEffect(() => {
    let cancelled = false;
    import('./json-editor')
      .then(({ createJsonEditor }) => {
        if (cancelled || !host.current) return;
        editor.current = createJsonEditor({
          parent: host.current,
          doc: latest.current.value,
          labelledBy: `${id}-label`,
          describedBy: latest.current.describedBy,
          // Always the latest callback: the editor outlives the render that created it.
          onChange: (text) => latest.current.onChange(text),
        });
        setState('ready');
      })
      .catch(() => {
        if (!cancelled) setState('failed');
      });
    return () => {
      cancelled = true;
      editor.current?.destroy();
      editor.current = null;
    };
  }, [id]);

  // Layout effects: the editor shows the new text and description in the same frame as the rest of the page.
  useLayoutEffect(() => editor.current?.setDoc(value), [value, state]);
  useLayoutEffect(() => editor.current?.setDescribedBy(describedBy), [describedBy, state]);

  if (state === 'failed') {
    return <CodeEditor id={id} label={label} value={value} describedBy={describedBy} onChange={onChange} />;
  }
  return (
    <div class="code-editor">
      <label id={`${id}-label`}>{label}</label>
      {state === 'loading' && <p class="muted">Loading the editor…</p>}
      <div ref={host} id={id} />
    </div>
  );
}
