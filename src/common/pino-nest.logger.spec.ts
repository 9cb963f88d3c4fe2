import { createHmac, randomBytes } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { LogFloodGuard } from './log-flood.guard.js';
import { about } from './log.context.js';
import { createRootLogger, PinoNestLogger, REDACTED, scrubSecrets } from './pino-nest.logger.js';

const WHSEC = `whsec_${randomBytes(32).toString('base64')}`;
const WHPK = `whpk_${randomBytes(32).toString('base64')}`;
const WHSK = `whsk_${randomBytes(64).toString('base64')}`;
const STRIPE_SECRET = `whsec_${randomBytes(24).toString('hex')}`;
const API_KEY = `hr_${randomBytes(32).toString('base64url')}`;
const HEX_SIGNATURE = createHmac('sha256', 'k').update('body').digest('hex');
const B64_SIGNATURE = createHmac('sha256', 'k').update('body').digest('base64');
const PLANTED = [WHSEC, WHPK, WHSK, STRIPE_SECRET, API_KEY, HEX_SIGNATURE, B64_SIGNATURE];

/** A logger whose lines land in an array, as the root logger writes them. */
function capture(level = 'trace') {
  const lines: string[] = [];
  const logger = createRootLogger(level, { write: (line: string) => lines.push(line) });
  return { logger, lines, text: () => lines.join('') };
}

function expectClean(text: string): void {
  for (const secret of PLANTED) expect(text).not.toContain(secret);
  // Nor the tail of a secret whose prefix alone was cut.
  expect(text).not.toContain(WHSEC.slice(6));
  expect(text).not.toContain(API_KEY.slice(3));
}

describe('scrubSecrets', () => {
  it.each([
    ['a signing secret', `secret is ${WHSEC}.`, `secret is ${REDACTED}.`],
    ['a Stripe secret', `got ${STRIPE_SECRET}`, `got ${REDACTED}`],
    ['a public key', `key ${WHPK}`, `key ${REDACTED}`],
    ['a private key', `key ${WHSK}`, `key ${REDACTED}`],
    ['an API key', `Authorization failed for ${API_KEY}`, `Authorization failed for ${REDACTED}`],
    ['a bearer credential', 'Bearer abc.def-ghi', `Bearer ${REDACTED}`],
    ['a basic credential', 'Basic dXNlcjpwYXNz', `Basic ${REDACTED}`],
    ['a GitHub signature', `sha256=${HEX_SIGNATURE}`, `sha256=${REDACTED}`],
    ['a Slack signature', `v0=${HEX_SIGNATURE}`, `v0=${REDACTED}`],
    ['a Stripe header', `t=1700000000,v1=${HEX_SIGNATURE}`, `t=1700000000,v1=${REDACTED}`],
    ['a Standard Webhooks signature', `v1,${B64_SIGNATURE} v1a,${B64_SIGNATURE}`, `v1,${REDACTED} v1a,${REDACTED}`],
    ['a secret after a JSON escape', `"line\\n${WHSEC}"`, `"line\\n${REDACTED}"`],
  ])('replaces %s', (_label, input, expected) => {
    expect(scrubSecrets(input)).toBe(expected);
  });

  it('leaves ordinary text alone', () => {
    const text = 'Delivery 0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a to trigger t: rejected 401 invalid_signature, v1=short';
    expect(scrubSecrets(text)).toBe(text);
  });
});

describe('createRootLogger', () => {
  it('scrubs messages, fields at any depth, error messages and stacks, and keeps every line valid JSON', () => {
    const { logger, lines, text } = capture();
    logger.info(`created trigger with ${WHSEC}`);
    logger.info({ context: 'x', nested: { deeper: [{ note: `key=${API_KEY}` }] } }, 'nested');
    logger.error({ err: new Error(`decrypt failed for ${STRIPE_SECRET}`) }, 'failure');
    logger.warn(new Error(`boom ${WHSK}`));
    logger.child({ apiKey: API_KEY }).info('child bindings');
    logger.info({ signatures: `v1,${B64_SIGNATURE}`, github: `sha256=${HEX_SIGNATURE}` }, 'signatures');
    expect(lines).toHaveLength(6);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expectClean(text());
    expect(text()).toContain(REDACTED);
  });

  it('censors credential and signature headers by name, whatever their value looks like', () => {
    const { logger, text } = capture();
    const headers = {
      authorization: 'Token opaque-value-1',
      cookie: 'session=opaque-value-2',
      'x-hub-signature-256': 'opaque-value-3',
      'stripe-signature': 'opaque-value-4',
      'x-slack-signature': 'opaque-value-5',
      'x-shopify-hmac-sha256': 'opaque-value-6',
      'webhook-signature': 'opaque-value-7',
      'svix-signature': 'opaque-value-8',
      'content-type': 'application/json',
    };
    logger.info({ req: { headers } }, 'request');
    logger.info({ headers }, 'headers');
    logger.info({ request: { headers } }, 'nested headers');
    logger.info({ secret: 'opaque-value-9', trigger: { secret: 'opaque-value-10', key: 'opaque-value-11' } }, 'fields');
    const out = text();
    for (let i = 1; i <= 11; i++) expect(out).not.toMatch(new RegExp(`opaque-value-${i}(?!\\d)`));
    expect(out).toContain('application/json');
  });

  it("scrubs what goes through Nest's logger, traces included", () => {
    const { logger, text } = capture();
    const nest = new PinoNestLogger(logger);
    nest.log(`log ${WHSEC}`, 'Ctx');
    nest.error(`error ${API_KEY}`, `Error: x\n    at ${WHPK}`, 'Ctx');
    nest.warn({ value: STRIPE_SECRET }, 'Ctx');
    nest.debug(new Error(`debug ${WHSK}`), 'Ctx');
    expectClean(text());
    expect(text()).toContain('"context":"Ctx"');
  });

  it('writes nothing below its level', () => {
    const { logger, lines } = capture('warn');
    logger.info(`ignored ${WHSEC}`);
    expect(lines).toHaveLength(0);
  });
});

describe('log fields', () => {
  it('writes the run, workflow and request a line is about as fields of the line, at every level', () => {
    const { logger, lines } = capture();
    const nest = new PinoNestLogger(logger);
    nest.log('plain', 'Ctx');
    nest.log(about({ runId: 'run-1', workflowId: 'wf-1' }, 'run line'), 'Ctx');
    nest.warn(about({ requestId: 'req-1' }, 'request line'), 'Ctx');
    nest.error(about({ runId: 'run-2' }, 'failed'), 'trace', 'Ctx');
    nest.debug(about({ workflowId: 'wf-3' }, 'debug line'), 'Ctx');
    const fields = lines.map((line) => {
      const { msg, context, runId, workflowId, requestId } = JSON.parse(line) as Record<string, string>;
      return { msg, context, runId, workflowId, requestId };
    });
    expect(fields).toEqual([
      { msg: 'plain', context: 'Ctx', runId: undefined, workflowId: undefined, requestId: undefined },
      { msg: 'run line', context: 'Ctx', runId: 'run-1', workflowId: 'wf-1', requestId: undefined },
      { msg: 'request line', context: 'Ctx', runId: undefined, workflowId: undefined, requestId: 'req-1' },
      { msg: 'failed', context: 'Ctx', runId: 'run-2', workflowId: undefined, requestId: undefined },
      { msg: 'debug line', context: 'Ctx', runId: undefined, workflowId: 'wf-3', requestId: undefined },
    ]);
  });

  it('scrubs secrets from the text of an entry as from any message', () => {
    const { logger, text } = capture();
    new PinoNestLogger(logger).warn(about({ runId: 'run-1' }, `call failed with ${WHSEC}`), 'Ctx');
    expectClean(text());
    expect(text()).toContain('"runId":"run-1"');
  });
});

describe('PinoNestLogger with a flood guard', () => {
  it('writes the first lines of one cause, counts the rest and sums them up when the interval ends', () => {
    let now = 0;
    const { logger, lines } = capture();
    const summaries: string[] = [];
    const guard = new LogFloodGuard(
      { burst: 2, intervalMs: 1000 },
      (s) => summaries.push(`${s.suppressed}: ${s.shape}`),
      () => now,
    );
    const nest = new PinoNestLogger(logger, guard);
    for (let i = 0; i < 10; i++) nest.warn(`Run 0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2${i} waits (try ${i})`, 'Runs');
    nest.warn('Another cause', 'Runs');
    nest.log('Info lines are never held back');
    nest.log('Info lines are never held back');
    nest.log('Info lines are never held back');
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual([
      'Run 0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b20 waits (try 0)',
      'Run 0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b21 waits (try 1)',
      'Another cause',
      'Info lines are never held back',
      'Info lines are never held back',
      'Info lines are never held back',
    ]);
    now = 1000;
    guard.flush();
    expect(summaries).toEqual(['8: Runs: Run # waits (try #)']);
    nest.warn('Run 0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a waits (try 11)', 'Runs');
    expect(lines).toHaveLength(7);
    guard.stop();
  });
});
