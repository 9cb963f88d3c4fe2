import { QueryClient, QueryClientProvider } from '@tanstack/preact-query';
import { render } from 'preact';

import { App } from './app';
import './styles.css';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 1000,
      // A 4xx will not fix itself; a 401 has already ended the session.
      retry: (failures, error) => failures < 2 && !(error instanceof Error && 'status' in error),
      refetchOnWindowFocus: true,
    },
  },
});

render(
  <QueryClientProvider client={queryClient}>
    <App />
  </QueryClientProvider>,
  document.getElementById('app')!,
);
