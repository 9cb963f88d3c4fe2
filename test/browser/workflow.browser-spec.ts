import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

import { consoleDirectory } from '../../src/app.setup.js';
import { waitUntil } from '../support/wait-for.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'docs', 'images');
const greet = (expression: string) => ({
  steps: [{ id: 'greet', type: 'transform', expression }],
  output: '{ "greeting": steps.greet.output }',
});

/** The workflow page in Debian's Chromium: definition, versions, trigger panel and deliveries. */
describe('workflow page in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let base: string;
  let workflowId: string;
  const cspViolations: string[] = [];

  const definitionField = () => page.getByLabel('Definition (JSON)');
  const triggerPanel = () => page.getByRole('region', { name: 'Webhook trigger' });
  const deliveries = () => page.getByRole('table', { name: 'Deliveries' });

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: apt-get install -y chromium`);
    if (!consoleDirectory()) throw new Error('The console is not built: run `npm run build` first');
    t = await startTestApp();
    await resetDatabase(t.db);
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    const created = await t
      .http()
      .post('/v1/workflows')
      .set(t.auth)
      .send({ name: 'Greet', definition: greet('"Hello, " & input.name') });
    workflowId = created.body.data.id as string;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.on('console', (message) => {
      if (message.text().includes('Content Security Policy')) cspViolations.push(message.text());
    });
    page = await context.newPage();
    await page.goto(`${base}/console/workflows/${workflowId}`);
    await page.getByLabel('API key').fill(t.auth.Authorization.slice('Bearer '.length));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Greet' }).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("lists the API's validation_failed details, field and message, under the definition", async () => {
    await definitionField().fill('[1, 2]');
    await page.getByRole('button', { name: 'Save definition' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.getByRole('paragraph').textContent()).toContain('(validation_failed)');
    expect(await alert.getByRole('listitem').allTextContents()).toEqual(['definition: definition must be an object']);
    expect(await definitionField().getAttribute('aria-describedby')).toBe('definition-error');
    await page.getByRole('button', { name: 'Discard changes' }).click();
    expect(await definitionField().textContent()).toContain('"\\"Hello, \\" & input.name"');
  });

  it("shows the API's validation message next to the definition, and saves the fixed one as version 2", async () => {
    await definitionField().fill(JSON.stringify(greet('"Hello, " & ('), null, 2));
    await page.getByRole('button', { name: 'Save definition' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/"greet".*invalid_definition/);
    expect(await definitionField().getAttribute('aria-describedby')).toBe('definition-error');

    await definitionField().fill(JSON.stringify(greet('"Hi, " & input.name'), null, 2));
    await page.getByRole('button', { name: 'Save definition' }).click();
    await page.getByText('Saved as version 2').waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    expect((await t.http().get(`/v1/workflows/${workflowId}`).set(t.auth)).body.data.version).toBe(2);
  });

  it('diffs version 1 and version 2 to the changed line, and restores version 1 after confirmation', async () => {
    await page.getByRole('row', { name: /^2 \(current\)/ }).waitFor();
    expect(await page.getByLabel('From version', { exact: true }).inputValue()).toBe('1');
    expect(await page.getByLabel('To version', { exact: true }).inputValue()).toBe('2');
    const diff = page.getByLabel('Diff from version 1 to version 2');
    await diff.getByText('removed - "expression": "\\"Hello, \\" & input.name"', { exact: false }).waitFor();
    await diff.getByText('added + "expression": "\\"Hi, \\" & input.name"', { exact: false }).waitFor();
    await page.getByText('2 changed lines').waitFor();

    await page.getByRole('button', { name: 'Restore version 1' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('as version 3').waitFor();
    await dialog.getByRole('button', { name: 'Restore' }).click();
    await page.getByRole('row', { name: /^3 \(current\)/ }).waitFor();
    expect(await definitionField().textContent()).toContain('"\\"Hello, \\" & input.name"');
  });

  it('disables and enables the workflow with its labelled toggle', async () => {
    await page.getByLabel('Workflow enabled').uncheck();
    await page.getByText('Starts no run while disabled.').waitFor();
    expect((await t.http().get(`/v1/workflows/${workflowId}`).set(t.auth)).body.data.enabled).toBe(false);
    await page.getByLabel('Workflow enabled').check();
    await page.getByText('Deliveries and API calls start runs.').waitFor();
  });

  it('creates a webhook trigger and shows its secret once, with the URL to copy', async () => {
    const panel = triggerPanel();
    expect(await panel.getByLabel('Scheme').inputValue()).toBe('standard-webhooks');
    const schemes = await panel.getByLabel('Scheme').locator('option').allTextContents();
    expect(schemes).toEqual(['standard-webhooks', 'github', 'stripe', 'slack', 'shopify', 'hmac-sha256', 'token']);
    await panel.getByLabel('Tolerance (seconds)').fill('300');
    await panel.getByRole('button', { name: 'Create webhook trigger' }).click();
    await panel.getByText("it won't be shown again").waitFor();
    const secret = await panel.getByLabel('New signing secret').textContent();
    expect(secret).toMatch(/^whsec_/);
    await panel.getByRole('button', { name: 'Copy the webhook URL' }).waitFor();
    expect(await panel.getByLabel('Webhook URL', { exact: true }).textContent()).toMatch(
      /\/webhooks\/workflows\/[\w-]+$/,
    );
    await panel.getByText('Signing snippets').click();
    expect(await panel.getByLabel('curl + openssl snippet', { exact: true }).textContent()).toContain(secret!);
    await panel.getByRole('button', { name: 'Done' }).click();
    await panel.getByLabel('New signing secret').waitFor({ state: 'detached' });
    expect(await panel.getByLabel('curl + openssl snippet', { exact: true }).textContent()).toContain(
      'whsec_PASTE_YOUR_SECRET',
    );
  });

  it('sends a test delivery and follows the link to the run it started, which completes', async () => {
    const panel = triggerPanel();
    expect(await panel.getByLabel('Test delivery body (JSON)').inputValue()).toContain('"Ada"');
    await panel.getByLabel('Test delivery body (JSON)').fill('{"name":"Grace"}');
    await panel.getByRole('button', { name: 'Send', exact: true }).click();
    await panel.getByText('Outcome: accepted: started a run (HTTP 202)').waitFor();
    await panel.getByText('Signing snippets').click();
    await panel.screenshot({ path: join(SCREENSHOTS, 'console-trigger.png') });

    await panel.getByRole('link', { name: 'Open the run it started' }).click();
    await page.getByRole('heading', { level: 1, name: /^Run .* completed$/ }).waitFor({ timeout: 10_000 });
    await page.getByText('"Hello, Grace"').first().waitFor();
    await page.goBack();
    await page.getByRole('heading', { level: 1, name: 'Greet' }).waitFor();
  });

  it('rotates the secret after confirmation, shows the new one once, and not after a reload', async () => {
    const panel = triggerPanel();
    await panel.getByLabel('Grace period (seconds)').fill('600');
    await panel.getByRole('button', { name: 'Rotate secret' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('keeps verifying for 600 seconds').waitFor();
    await dialog.getByRole('button', { name: 'Rotate secret' }).click();
    await panel.getByText("it won't be shown again").waitFor();
    const secret = (await panel.getByLabel('New signing secret').textContent())!;
    expect(secret).toMatch(/^whsec_/);
    await panel.getByText('The previous secret verifies until').waitFor();

    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Greet' }).waitFor();
    await triggerPanel().getByRole('button', { name: 'Rotate secret' }).waitFor();
    expect(await page.getByLabel('New signing secret').count()).toBe(0);
    expect(await page.content()).not.toContain(secret);
  });

  it('lists deliveries with their outcome in words, new ones by themselves, and filters by outcome', async () => {
    const url = (await triggerPanel().getByLabel('Webhook URL', { exact: true }).textContent())!;
    await t
      .http()
      .post(new URL(url).pathname)
      .set('content-type', 'application/json')
      .send({ name: 'Eve' })
      .expect(401);
    await waitUntil(async () => {
      const res = await t
        .http()
        .get(`/v1/workflows/${workflowId}/trigger/webhook/deliveries?outcome=rejected`)
        .set(t.auth);
      return res.body.data.length > 0;
    });
    // No click: the open panel refreshes itself.
    await deliveries().getByRole('row').filter({ hasText: 'rejected: signature missing' }).waitFor();
    const accepted = deliveries().getByRole('row').filter({ hasText: 'accepted: started a run' });
    await accepted.getByRole('link', { name: /^Run / }).waitFor();

    await page.getByLabel('Outcome').selectOption('rejected');
    await accepted.waitFor({ state: 'detached' });
    await deliveries().getByRole('row').filter({ hasText: 'rejected: signature missing' }).waitFor();
    await page.getByLabel('Outcome').selectOption('replayed');
    await page.getByText('No replayed deliveries.').waitFor();
    await page.getByLabel('Outcome').selectOption('');
    await accepted.waitFor();
  });

  it('edits the filter: the API error next to it, then saved and shown, and a delivery it does not match is filtered', async () => {
    const panel = triggerPanel();
    await panel.getByText('none: every verified delivery starts a run').waitFor();
    const field = panel.getByLabel('Filter (JSONata)');
    const save = panel.getByRole('button', { name: 'Save', exact: true });
    await field.fill('body.name =');
    await save.click();
    const refused = panel.getByRole('alert').filter({ hasText: 'validation_failed' });
    await refused.getByText(/^filter:/).waitFor();

    await field.fill('body.name = "Grace"');
    await save.click();
    await refused.waitFor({ state: 'detached' });
    await panel.locator('dd code').filter({ hasText: 'body.name = "Grace"' }).waitFor();
    await panel.getByLabel('Test delivery body (JSON)').fill('{"name":"Eve"}');
    await panel.getByRole('button', { name: 'Send', exact: true }).click();
    await panel.getByText(/^Outcome: filtered: .*\(HTTP 200\)$/).waitFor();

    // The log is written in batches after the answer: the row is there before the list asks for it.
    await waitUntil(async () => {
      const res = await t
        .http()
        .get(`/v1/workflows/${workflowId}/trigger/webhook/deliveries?outcome=filtered`)
        .set(t.auth);
      return res.body.data.length > 0;
    });
    await page.getByLabel('Outcome').selectOption('filtered');
    await deliveries().getByRole('row').filter({ hasText: 'filtered:' }).waitFor();
    await page.getByLabel('Outcome').selectOption('');

    await field.fill('');
    await save.click();
    await panel.getByText('none: every verified delivery starts a run').waitFor();
  });

  it('disables the trigger, whose URL then answers 404', async () => {
    const panel = triggerPanel();
    await panel.getByRole('button', { name: 'Disable trigger' }).click();
    await panel.getByRole('button', { name: 'Enable trigger' }).waitFor();
    await panel.getByText('disabled: its URL answers 404').waitFor();
    const url = (await panel.getByLabel('Webhook URL', { exact: true }).textContent())!;
    await t.http().post(new URL(url).pathname).set('content-type', 'application/json').send({}).expect(404);
  });

  it('fits a 390-px-wide phone screen without scrolling sideways, snippets and diff included', async () => {
    const phone = await page.context().newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${base}/console/workflows/${workflowId}`);
    await phone.getByLabel('API key').fill(t.auth.Authorization.slice('Bearer '.length));
    await phone.getByRole('button', { name: 'Sign in' }).click();
    await phone.getByRole('heading', { level: 1, name: 'Greet' }).waitFor();
    await phone.getByText('Signing snippets').click();
    await phone.getByLabel('Node snippet', { exact: true }).waitFor();
    await phone.getByRole('table', { name: 'Deliveries' }).waitFor();
    const { scrollWidth, clientWidth } = await phone.evaluate<{ scrollWidth: number; clientWidth: number }>(
      '({ scrollWidth: document.scrollingElement.scrollWidth, clientWidth: document.scrollingElement.clientWidth })',
    );
    expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
    await phone.close();
  });

  it('creates a new workflow from a name and a definition, with the API errors shown under the editor', async () => {
    await page.goto(`${base}/console/workflows`);
    await page.getByRole('button', { name: 'New workflow' }).click();
    const form = page.getByRole('form', { name: 'New workflow' });
    await form.getByLabel('Name').fill('Echo');
    const definition = form.getByLabel('Definition (JSON)');
    expect(await definition.textContent()).toContain('"transform"');
    await definition.fill(JSON.stringify({ steps: [{ id: 'echo', type: 'transform' }] }));
    await form.getByRole('button', { name: 'Create workflow' }).click();
    const alert = form.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('invalid_definition');
    expect(await definition.getAttribute('aria-describedby')).toBe('new-workflow-error');

    await definition.fill(JSON.stringify({ steps: [{ id: 'echo', type: 'transform', expression: 'input' }] }));
    await form.getByRole('button', { name: 'Create workflow' }).click();
    await page.getByRole('heading', { level: 1, name: 'Echo' }).waitFor();
    const list = await t.http().get('/v1/workflows?limit=100').set(t.auth);
    const echo = (list.body.data as { name: string; version: number }[]).find((w) => w.name === 'Echo');
    expect(echo?.version).toBe(1);
  });

  it('ran within its Content-Security-Policy', () => {
    expect(cspViolations).toEqual([]);
  });
});
