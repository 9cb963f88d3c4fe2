import type { TestApp } from './test-app.js';

const TERMINAL = ['completed', 'failed', 'cancelled'];

export interface RunBody {
  id: string;
  status: string;
  output: unknown;
  error: { code: string; message: string; stepId: string | null } | null;
  steps: { id: string; status: string; output: unknown; error: unknown; attempts: number }[];
  [key: string]: unknown;
}

/** Polls the run through the API until it is terminal (or in one of `statuses`); never sleeps blindly. */
export async function waitForRun(
  t: TestApp,
  runId: string,
  options: { statuses?: string[]; timeoutMs?: number } = {},
): Promise<RunBody> {
  const statuses = options.statuses ?? TERMINAL;
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let last: RunBody | undefined;
  while (Date.now() < deadline) {
    const res = await t.http().get(`/v1/workflow-runs/${runId}`).set(t.auth);
    if (res.status === 200) {
      last = res.body.data as RunBody;
      if (statuses.includes(last.status)) return last;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`Run ${runId} did not reach ${statuses.join('/')} in time; last seen: ${JSON.stringify(last)}`);
}

/** Polls a condition until it holds. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`Timed out waiting for ${what}`);
}
