import { CopyButton } from './copy-button';

/** A secret the API returns once (create, rotate): shown here and nowhere later. */
export function SecretOnce({ secret, note, onDone }: { secret: string; note?: string; onDone: () => void }) {
  return (
    <div class="notice" role="status">
      <p>
        <strong>New signing secret.</strong> Copy it now: it won't be shown again.
        {note && ` ${note}`}
      </p>
      <code class="wrap" aria-label="New signing secret">
        {secret}
      </code>
      <div class="actions">
        <CopyButton text={secret} label="Copy the new secret" />
        <button type="button" class="secondary" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}
