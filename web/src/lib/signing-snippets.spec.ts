/// <reference types="node" />
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';

import { SECRET_PLACEHOLDER, shellQuote, signingSnippets } from './signing-snippets';

const run = promisify(execFile);

/** Runs a snippet against a local server and returns what arrived, so the test checks real signatures. */
async function deliver(
  runSnippet: (url: string) => Promise<unknown>,
): Promise<{ headers: IncomingHttpHeaders; body: string }> {
  let received: { headers: IncomingHttpHeaders; body: string } | undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received = { headers: req.headers, body: Buffer.concat(chunks).toString() };
      res.writeHead(202).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await runSnippet(`http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/workflows/abc`);
  } finally {
    server.close();
  }
  if (!received) throw new Error('nothing arrived');
  return received;
}

function verify(secret: string, arrived: { headers: IncomingHttpHeaders; body: string }): unknown {
  return new Webhook(secret).verify(arrived.body, arrived.headers as Record<string, string>);
}

describe('signingSnippets', () => {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;

  it('uses the placeholder, never a secret it was not given', () => {
    const snippets = signingSnippets({ url: 'https://h.example/webhooks/workflows/s1', scheme: 'standard-webhooks' })!;
    expect(snippets.curl).toContain(`SECRET='${SECRET_PLACEHOLDER}'`);
    expect(snippets.curl).toContain("URL='https://h.example/webhooks/workflows/s1'");
    expect(snippets.node).toContain(JSON.stringify(SECRET_PLACEHOLDER));
    expect(snippets.node).toContain('"https://h.example/webhooks/workflows/s1"');
  });

  it('has nothing to paste for a scheme its provider signs', () => {
    expect(signingSnippets({ url: 'https://h.example/x', scheme: 'github' })).toBeNull();
  });

  it('quotes for the shell, quotes included', () => {
    expect(shellQuote(`it's`)).toBe(`'it'\\''s'`);
  });

  it('makes a curl + openssl delivery that Standard Webhooks verifies', async () => {
    const arrived = await deliver(async (url) => {
      const { curl } = signingSnippets({ url, scheme: 'standard-webhooks', secret, body: `{"name":"O'Hara"}` })!;
      await run('bash', ['-c', curl]);
    });
    expect(verify(secret, arrived)).toEqual({ name: "O'Hara" });
  });

  it('makes a Node delivery that Standard Webhooks verifies', async () => {
    const arrived = await deliver(async (url) => {
      const { node } = signingSnippets({ url, scheme: 'standard-webhooks', secret })!;
      await run(process.execPath, ['--input-type=module', '-e', node]);
    });
    expect(verify(secret, arrived)).toEqual({ name: 'Ada' });
  });
});
