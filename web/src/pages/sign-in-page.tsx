import { useState } from 'preact/hooks';

import { checkKey } from '../api/client';
import { lastSignOutReason, signIn } from '../api/session';

export function SignInPage() {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(lastSignOutReason());

  const submit = async (event: Event) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) {
      setMessage('Enter an API key.');
      return;
    }
    setBusy(true);
    setMessage(null);
    try {
      if (await checkKey(trimmed)) signIn(trimmed);
      else setMessage('That API key is not valid. Check it and try again.');
    } catch {
      setMessage('hookrun could not be reached. Try again in a moment.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="sign-in">
      <h1>hookrun console</h1>
      <form onSubmit={(event) => void submit(event)}>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={key}
          onInput={(event) => setKey(event.currentTarget.value)}
          aria-describedby="api-key-help"
        />
        <p id="api-key-help" class="muted">
          Kept in this tab only (session storage) and sent only to this hookrun&apos;s API.
        </p>
        {message && (
          <p role="alert" class="error">
            {message}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
