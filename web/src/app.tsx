import { useQueryClient } from '@tanstack/preact-query';
import { useEffect, useState } from 'preact/hooks';
import { LocationProvider, Route, Router, useLocation } from 'preact-iso';

import { currentKey, onSessionChange, signOut } from './api/session';
import { ApiKeysPage } from './pages/api-keys-page';
import { NotFoundPage } from './pages/not-found-page';
import { RunPage } from './pages/run-page';
import { RunsPage } from './pages/runs-page';
import { SignInPage } from './pages/sign-in-page';
import { WorkflowPage } from './pages/workflow-page';
import { WorkflowsPage } from './pages/workflows-page';

export const BASE = '/console';

function useSignedIn(): boolean {
  const [signedIn, setSignedIn] = useState(currentKey() !== null);
  useEffect(() => onSessionChange(() => setSignedIn(currentKey() !== null)), []);
  return signedIn;
}

export function App() {
  const signedIn = useSignedIn();
  const queryClient = useQueryClient();
  // Nothing fetched with one key is shown under another.
  useEffect(() => {
    if (!signedIn) queryClient.clear();
  }, [signedIn, queryClient]);
  return <LocationProvider scope={BASE}>{signedIn ? <Layout /> : <SignInPage />}</LocationProvider>;
}

const NAV = [
  { href: `${BASE}/workflows`, label: 'Workflows', matches: (path: string) => path.startsWith(`${BASE}/workflows`) },
  { href: `${BASE}/runs`, label: 'Runs', matches: (path: string) => path === BASE || path.startsWith(`${BASE}/runs`) },
  { href: `${BASE}/api-keys`, label: 'API keys', matches: (path: string) => path.startsWith(`${BASE}/api-keys`) },
];

function Layout() {
  const { path } = useLocation();
  return (
    <div class="layout">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href={`${BASE}/runs`}>
          hookrun
        </a>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.href}>
                <a href={item.href} aria-current={item.matches(path) ? 'page' : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" class="secondary" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Router>
          <Route path={BASE} component={RunsPage} />
          <Route path={`${BASE}/runs`} component={RunsPage} />
          <Route path={`${BASE}/runs/:id`} component={RunPage} />
          <Route path={`${BASE}/workflows`} component={WorkflowsPage} />
          <Route path={`${BASE}/workflows/:id`} component={WorkflowPage} />
          <Route path={`${BASE}/api-keys`} component={ApiKeysPage} />
          <Route default component={NotFoundPage} />
        </Router>
      </main>
    </div>
  );
}
