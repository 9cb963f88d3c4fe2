interface CodeEditorProps {
  id: string;
  label: string;
  value: string;
  rows?: number;
  describedBy?: string;
  onChange: (value: string) => void;
}

/** A monospace JSON field; Tab still moves focus, so the page stays keyboard navigable. */
export function CodeEditor({ id, label, value, rows = 16, describedBy, onChange }: CodeEditorProps) {
  return (
    <div class="code-editor">
      <label for={id}>{label}</label>
      <textarea
        id={id}
        class="code"
        rows={rows}
        spellcheck={false}
        autocomplete="off"
        aria-describedby={describedBy}
        value={value}
        onInput={(event) => onChange(event.currentTarget.value)}
      />
    </div>
  );
}
