import { jsonView } from '../lib/format';

/** Small JSON shows open; large JSON starts collapsed, so the page stays readable. */
export function JsonBlock({ label, value }: { label: string; value: unknown }) {
  const view = jsonView(value);
  return (
    <details class="json" open={view.open}>
      <summary>
        {label} <span class="muted">({view.size})</span>
      </summary>
      <pre tabIndex={0} aria-label={label}>
        {view.text}
      </pre>
    </details>
  );
}
