const STORAGE_KEY = 'hookrun.apiKey';

type Listener = () => void;
const listeners = new Set<Listener>();
let signOutReason: string | null = null;

/** The key lives in sessionStorage only: it ends with the tab, and never appears in a URL. */
export function currentKey(): string | null {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function signIn(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
  signOutReason = null;
  notify();
}

export function signOut(reason: string | null = null): void {
  sessionStorage.removeItem(STORAGE_KEY);
  signOutReason = reason;
  notify();
}

/** Why the last sign-out happened when the person did not ask for it, for the sign-in page to say. */
export function lastSignOutReason(): string | null {
  return signOutReason;
}

export function onSessionChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(): void {
  for (const listener of listeners) listener();
}
