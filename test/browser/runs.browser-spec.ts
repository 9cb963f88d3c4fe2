import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';

import { consoleDirectory } from '../../src/app.setup.js';
import { createTrigger, type CreatedTrigger } from '../support/factories.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { waitForRun } from '../support/wait-for.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const GREETER = {
  name: 'Greeter',
  definition: {
    steps: [
      { id: 'greet', type: 'transform', expression: '"Hello, " & input.name' },
      { id: 'shout', type: 'transform', expression: '$uppercase(steps.greet.output)' },
    ],
    output: '{ "greeting": steps.shout.output }',
  },
};

/** The value of a `datetime-local` input with seconds, in local time (as the browser shows it). */
function localInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The runs side of the console: filters, the live list from the changes feed, the run page, run counts. */
describe('console runs in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let base: string;
  let workflowId: string;
  let trigger: CreatedTrigger;
  let webhookRunId: string;
  const runIds: string[] = [];

  const runRows = () => page.getByRole('row').filter({ has: page.getByRole('link', { name: /^Run / }) });
  const startRun = async (input: unknown): Promise<string> => {
    const res = await t.http().post(`/v1/workflows/${workflowId}/runs`).set(t.auth).send({ input });
    expect(res.status).toBe(202);
    return res.body.data.id as string;
  };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: apt-get install -y chromium`);
    if (!consoleDirectory()) throw new Error('The console is not built: run `npm run build` first');
    t = await startTestApp();
    await resetDatabase(t.db);
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await page.goto(`${base}/console`);
    await page.getByLabel('API key').fill(t.auth.Authorization.slice('Bearer '.length));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('with no workflow, points to making one', async () => {
    await page.getByText('No runs yet').waitFor();
    await page.getByRole('link', { name: 'create a workflow' }).waitFor();
  });

  it('with a trigger, shows its URL and a signing snippet that works; the run appears from the changes feed', async () => {
    const created = await t.http().post('/v1/workflows').set(t.auth).send(GREETER);
    workflowId = created.body.data.id as string;
    trigger = await createTrigger(t, workflowId);
    await page.reload();
    const snippet = page.getByLabel('Signing snippet');
    await snippet.waitFor();
    const text = (await snippet.textContent()) ?? '';
    expect(text).toContain(`URL='${trigger.url}'`);
    await page.getByText(trigger.url, { exact: true }).waitFor();

    const requests: string[] = [];
    page.on('request', (request) => requests.push(new URL(request.url()).pathname + new URL(request.url()).search));
    // The trigger's URL names the public base; the test app listens on another port.
    const script = text
      .replace(/^URL=.*$/m, `URL='${base}${trigger.path}'`)
      .replace(/^SECRET=.*$/m, `SECRET='${trigger.secret}'`);
    const { stdout } = await promisify(execFile)('bash', ['-c', script]);
    webhookRunId = (JSON.parse(stdout) as { data: { runId: string } }).data.runId;
    runIds.push(webhookRunId);

    const link = page.getByRole('link', { name: `Run ${webhookRunId.slice(-8)}` });
    await link.waitFor({ timeout: 10_000 });
    await runRows().filter({ has: link }).getByText('completed').waitFor({ timeout: 10_000 });
    await runRows().filter({ has: link }).getByText('webhook').waitFor();
    expect(requests.some((path) => path.startsWith('/v1/workflow-runs/changes?'))).toBe(true);
    expect(requests.filter((path) => path.startsWith('/v1/workflow-runs?'))).toEqual([]);
    page.removeAllListeners('request');
  });

  it('filters by trigger type, in a URL that survives a reload', async () => {
    const apiRun = await startRun({ name: 'Grace' });
    await waitForRun(t, apiRun);
    const rerun = await t.http().post(`/v1/workflow-runs/${apiRun}/rerun`).set(t.auth).send();
    expect(rerun.status).toBe(202);
    await waitForRun(t, rerun.body.data.id as string);
    runIds.push(apiRun, rerun.body.data.id as string);
    await runRows().nth(2).waitFor({ timeout: 10_000 });

    await page.getByLabel('Trigger').selectOption('rerun');
    await page.waitForURL(/\/console\/runs\?triggerType=rerun$/);
    await page.getByRole('link', { name: `Run ${apiRun.slice(-8)}` }).waitFor({ state: 'detached' });
    await page.reload();
    expect(await page.getByLabel('Trigger').inputValue()).toBe('rerun');
    await page.getByRole('link', { name: `Run ${(rerun.body.data.id as string).slice(-8)}` }).waitFor();
    expect(await runRows().count()).toBe(1);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.waitForURL(/\/console\/runs$/);
    await runRows().nth(2).waitFor();
  });

  it('filters by created between, in a URL that survives a reload', async () => {
    await sleep(1100);
    const boundary = new Date();
    await sleep(1100);
    const late = await startRun({ name: 'Linus' });
    await waitForRun(t, late);
    await page.getByRole('link', { name: `Run ${late.slice(-8)}` }).waitFor({ timeout: 10_000 });
    runIds.push(late);
    expect(await runRows().count()).toBe(4);

    await page.getByLabel('Created from').fill(localInput(boundary));
    await page.waitForURL(/createdFrom=/);
    await page.getByRole('link', { name: `Run ${webhookRunId.slice(-8)}` }).waitFor({ state: 'detached' });
    await page.getByRole('link', { name: `Run ${late.slice(-8)}` }).waitFor();
    expect(await runRows().count()).toBe(1);
    await page.reload();
    expect(await page.getByLabel('Created from').inputValue()).toBe(localInput(boundary));
    await page.getByRole('link', { name: `Run ${late.slice(-8)}` }).waitFor();
    expect(await runRows().count()).toBe(1);

    await page.getByLabel('Created before').fill(localInput(boundary));
    await page.getByText('No runs with these filters').waitFor();
    await page.getByLabel('Created from').fill('');
    await page.waitForURL((url) => !url.search.includes('createdFrom') && url.search.includes('createdTo'));
    await page.getByRole('link', { name: `Run ${webhookRunId.slice(-8)}` }).waitFor();
    expect(await runRows().count()).toBe(3);
    await page.reload();
    expect(await page.getByLabel('Created before').inputValue()).toBe(localInput(boundary));
    await runRows().nth(2).waitFor();
    expect(await runRows().count()).toBe(3);
  });

  it('shows each step on the timeline in words, the trigger, and finds a value in the input', async () => {
    await page.goto(`${base}/console/runs/${webhookRunId}`);
    const timeline = page.getByRole('list', { name: 'Timeline' });
    await timeline.getByText(/^greet, completed, \d+(\.\d+)? m?s$/).waitFor();
    await timeline.getByText(/^shout, completed, \d+(\.\d+)? m?s$/).waitFor();
    await page.getByText('webhook id').waitFor();
    await page.getByRole('link', { name: 'delivery log' }).waitFor();

    await page.getByLabel('Search input').fill('ada');
    await page.getByRole('status').filter({ hasText: '1 match' }).waitFor();
    expect(await page.getByLabel('Matches in input').textContent()).toBe('name: "Ada"');
    await page.getByLabel('Search output').fill('HELLO');
    expect(await page.getByLabel('Matches in output').textContent()).toBe('greeting: "HELLO, ADA"');
    await page.getByLabel('Search output').fill('nothing like it');
    await page.getByText('No match').waitFor();
  });

  it('shows the runs of the last 24 h by status on the workflows list', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Workflows' }).click();
    const row = page.getByRole('row').filter({ hasText: 'Greeter' });
    await row.getByText(`${runIds.length} completed`).waitFor();
    await row.getByText('standard-webhooks').waitFor();
    await page.getByRole('columnheader', { name: 'Runs (24 h)' }).waitFor();
  });
});
