import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

import { consoleDirectory } from '../../src/app.setup.js';
import { createWorkflow } from '../support/factories.js';
import { HttpSink } from '../support/http-sink.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { waitForRun } from '../support/wait-for.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'docs', 'images');
const DELAY_DEFINITION = {
  steps: [
    { id: 'wait', type: 'delay', durationMs: 600_000 },
    { id: 'after', type: 'transform', expression: '1' },
  ],
};

/**
 * The lowest contrast ratio (WCAG 2) of any visible text on the page against the background it is drawn on,
 * and that text. Runs in the page.
 */
const LOWEST_TEXT_CONTRAST = `(() => {
  const rgb = (css) => (css.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const lin = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const backgroundOf = (element) => {
    for (let e = element; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return rgb(getComputedStyle(document.documentElement).backgroundColor).slice(0, 3);
  };
  let worst = { ratio: 21, text: '' };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    if (!node.textContent.trim() || !element || !element.checkVisibility()) continue;
    const [l1, l2] = [luminance(rgb(getComputedStyle(element).color)), luminance(backgroundOf(element))];
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    if (ratio < worst.ratio) worst = { ratio, text: node.textContent.trim().slice(0, 60) };
  }
  return worst;
})()`;

/** What a person sees in the console, in Debian's Chromium against the real app on a real port. */
describe('console in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  let sink: HttpSink;
  const cspViolations: string[] = [];

  const startRun = async (workflowId: string, input: unknown = {}): Promise<string> => {
    const res = await t.http().post(`/v1/workflows/${workflowId}/runs`).set(t.auth).send({ input });
    expect(res.status).toBe(202);
    return res.body.data.id as string;
  };

  const signIn = async (target: Page, key: string) => {
    await target.goto(`${base}/console`);
    await target.getByLabel('API key').fill(key);
    await target.getByRole('button', { name: 'Sign in' }).click();
  };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: apt-get install -y chromium`);
    if (!consoleDirectory()) throw new Error('The console is not built: run `npm run build` first');
    sink = await new HttpSink().start();
    t = await startTestApp({ env: { HTTP_STEP_ALLOWED_HOSTS: '127.0.0.1' } });
    await resetDatabase(t.db);
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.on('console', (message) => {
      if (message.text().includes('Content Security Policy')) cspViolations.push(message.text());
    });
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await sink?.stop();
  });

  it('redirects / to the sign-in page, and says so when the key is wrong', async () => {
    await page.goto(base);
    expect(new URL(page.url()).pathname).toBe('/console');
    await page.getByLabel('API key').fill(`hr_${randomBytes(32).toString('base64url')}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That API key is not valid').waitFor();
    expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(0);
  });

  it('signs in with the right key, keeps it out of the URL, and shows the navigation', async () => {
    await page.getByLabel('API key').fill(t.auth.Authorization.slice('Bearer '.length));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const name of ['Workflows', 'Runs', 'API keys']) await nav.getByRole('link', { name }).waitFor();
    expect(page.url()).not.toContain('hr_');
  });

  it('creates the example workflow from the empty state, reachable from the keyboard', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Workflows' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('No workflows yet').waitFor();
    await page.getByRole('button', { name: 'Create from example' }).click();
    await page.getByRole('heading', { name: 'Greet' }).waitFor();
    await page.getByText('/webhooks/workflows/').waitFor();
    expect(page.url()).toMatch(/\/console\/workflows\/[0-9a-f-]{36}$/);
  });

  it('shows a new run in the runs list without reloading, until it is completed, and opens it', async () => {
    const workflowId = page.url().split('/').pop()!;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs' }).click();
    await page.getByText('No runs yet').waitFor();
    await page.evaluate('window.notReloaded = true');

    const runId = await startRun(workflowId, { name: 'Ada' });
    await waitForRun(t, runId);
    const link = page.getByRole('link', { name: `Run ${runId.slice(-8)}` });
    await link.waitFor({ timeout: 10_000 });
    const row = page.getByRole('row').filter({ has: link });
    await row.getByText('completed').waitFor({ timeout: 10_000 });
    await row.getByText('Greet').waitFor();
    expect(await page.evaluate('window.notReloaded')).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-runs.png') });

    await link.click();
    await page.getByRole('heading', { name: 'Steps' }).waitFor();
    await page.getByRole('heading', { name: /greet/ }).waitFor();
    await page.getByText('"Hello, Ada"').first().waitFor();
    await page.getByText('1 attempt').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'console-run.png'), fullPage: true });
  });

  it('reruns a run after confirmation and goes to the new run', async () => {
    const before = page.url();
    await page.getByRole('button', { name: 'Rerun' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Start a new run with the same input?').waitFor();
    await dialog.getByRole('button', { name: 'Rerun' }).click();
    await page.waitForURL((url) => url.href !== before && url.pathname.startsWith('/console/runs/'));
    await page.getByText('rerun of').waitFor();
    await page.getByRole('heading', { level: 1, name: /^Run .* completed$/ }).waitFor({ timeout: 10_000 });
  });

  it('shows a failed http step with its error, and Retry from failed step makes the run complete', async () => {
    sink.failFirst('/notify', 1, 500);
    const created = await t
      .http()
      .post('/v1/workflows')
      .set(t.auth)
      .send({
        name: 'Notify deals',
        definition: {
          steps: [
            { id: 'score', type: 'transform', expression: 'input.deals' },
            { id: 'notify', type: 'http', request: { method: 'POST', url: `${sink.url}/notify`, body: 'input' } },
          ],
        },
      });
    const workflow = created.body.data as { id: string };
    const runId = await startRun(workflow.id, { deals: 3 });
    expect((await waitForRun(t, runId)).status).toBe('failed');
    await page.goto(`${base}/console/runs/${runId}`);
    await page.getByRole('heading', { level: 1, name: /^Run .* failed$/ }).waitFor();
    await page.getByText(/Failed at step notify/).waitFor();
    await page
      .getByRole('heading', { name: /notify/ })
      .getByText('failed')
      .waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'console-run-failed.png'), fullPage: true });

    await page.getByRole('button', { name: 'Retry from failed step' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Retry from failed step' }).click();
    await page.getByRole('heading', { level: 1, name: /^Run .* completed$/ }).waitFor({ timeout: 10_000 });
    await page
      .getByRole('heading', { name: /notify/ })
      .getByText('completed')
      .waitFor();
  });

  it('opens a deep link to a waiting run, which cancels after confirmation and updates by itself', async () => {
    const workflow = await createWorkflow(t, DELAY_DEFINITION);
    const runId = await startRun(workflow.id);
    await waitForRun(t, runId, { statuses: ['running'] });
    await page.goto(`${base}/console/runs/${runId}`);
    await page.getByRole('heading', { name: /wait/ }).getByText('waiting').waitFor({ timeout: 10_000 });

    await page.getByRole('button', { name: 'Cancel run' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Cancel this run?').waitFor();
    await dialog.getByRole('button', { name: 'Cancel run' }).click();
    await page.getByRole('heading', { name: /Run .* cancelled/ }).waitFor({ timeout: 10_000 });
    expect((await waitForRun(t, runId)).status).toBe('cancelled');
  });

  it('filters the runs list by status, in a URL that survives a reload', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs' }).click();
    await page.getByRole('row').filter({ hasText: 'completed' }).first().waitFor();
    await page.getByLabel('Status').selectOption('cancelled');
    await page.waitForURL(/\/console\/runs\?status=cancelled$/);
    await page.getByRole('row').filter({ hasText: 'completed' }).first().waitFor({ state: 'detached' });
    await page.reload();
    expect(await page.getByLabel('Status').inputValue()).toBe('cancelled');
    const rows = page.getByRole('row').filter({ hasText: 'cancelled' });
    await rows.first().waitFor();
    expect(await rows.count()).toBe(1);
  });

  it('creates an API key, shown once, and revokes it after confirmation', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click();
    await page.getByLabel('Name').fill('deploy bot');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByText('it is not shown again').waitFor();
    const key = await page.getByLabel('New API key').textContent();
    expect(key).toMatch(/^hr_/);
    expect(
      (
        await t
          .http()
          .get('/v1/workflows')
          .set({ Authorization: `Bearer ${key}` })
      ).status,
    ).toBe(200);
    const row = page.getByRole('row').filter({ hasText: 'deploy bot' });
    await row.waitFor();

    await row.getByRole('button', { name: 'Revoke deploy bot' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke key' }).click();
    await row.waitFor({ state: 'detached' });
    expect(
      (
        await t
          .http()
          .get('/v1/workflows')
          .set({ Authorization: `Bearer ${key}` })
      ).status,
    ).toBe(401);
  });

  it('fits a 390-px-wide phone screen without scrolling sideways', async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await signIn(phone, t.auth.Authorization.slice('Bearer '.length));
    for (const path of ['/console/runs', '/console/workflows', '/console/api-keys', new URL(page.url()).pathname]) {
      await phone.goto(`${base}${path}`);
      await phone.getByRole('heading', { level: 1 }).first().waitFor();
      const { scrollWidth, clientWidth } = await phone.evaluate<{ scrollWidth: number; clientWidth: number }>(
        '({ scrollWidth: document.scrollingElement.scrollWidth, clientWidth: document.scrollingElement.clientWidth })',
      );
      expect({ path, scrollWidth: Math.min(scrollWidth, clientWidth) }).toEqual({ path, scrollWidth });
    }
    await phone.close();
  });

  it('follows the system setting, dark or light, with every text readable (WCAG AA contrast)', async () => {
    const backgrounds: string[] = [];
    for (const colorScheme of ['light', 'dark'] as const) {
      const themed = await context.newPage();
      await themed.emulateMedia({ colorScheme });
      await signIn(themed, t.auth.Authorization.slice('Bearer '.length));
      for (const path of ['/console/runs', '/console/workflows', new URL(page.url()).pathname]) {
        await themed.goto(`${base}${path}`);
        await themed.getByRole('heading', { level: 1 }).first().waitFor();
        const worst = await themed.evaluate<{ ratio: number; text: string }>(LOWEST_TEXT_CONTRAST);
        expect({ colorScheme, path, readable: worst.ratio >= 4.5 ? true : worst }).toEqual({
          colorScheme,
          path,
          readable: true,
        });
      }
      backgrounds.push(await themed.evaluate<string>('getComputedStyle(document.body).backgroundColor'));
      await themed.close();
    }
    expect(backgrounds[0]).not.toBe(backgrounds[1]);
  });

  it('signs out when the key is revoked, with a clear message', async () => {
    const created = await t.http().post('/v1/api-keys').set(t.auth).send({ name: 'browser' });
    const other = await context.newPage();
    await signIn(other, created.body.data.key as string);
    await other.getByRole('heading', { name: 'Runs' }).waitFor();
    await t
      .http()
      .delete(`/v1/api-keys/${created.body.data.id as string}`)
      .set(t.auth)
      .expect(204);
    await other.getByText('Your API key is no longer valid').waitFor({ timeout: 10_000 });
    await other.getByLabel('API key').waitFor();
    expect(await other.evaluate('sessionStorage.length')).toBe(0);
    await other.close();
  });

  it('signs out and forgets the key', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    await page.reload();
    await page.getByLabel('API key').waitFor();
  });

  it('ran everything within its Content-Security-Policy, which does refuse inline code', async () => {
    expect(cspViolations).toEqual([]);
    await page.evaluate(`document.body.insertAdjacentHTML('beforeend', '<img src="/nothing" onerror="1">')`);
    for (let i = 0; i < 50 && cspViolations.length === 0; i++) await page.waitForTimeout(50);
    expect(cspViolations.length).toBe(1);
  });
});
