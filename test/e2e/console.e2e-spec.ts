import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

import { consoleDirectory } from '../../src/app.setup.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** The console's files: public, under a strict CSP, deep links answered with the app; nothing else is touched. */
describe('console serving', () => {
  let t: TestApp;

  beforeAll(async () => {
    if (!consoleDirectory()) throw new Error('The console is not built: run `npm run build` first');
    t = await startTestApp({ worker: false });
    await t.app.listen(0, '127.0.0.1');
  });

  /** The bytes as sent: supertest would decompress them. */
  function fetchRaw(path: string, headers: Record<string, string>) {
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    return new Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      })
        .on('error', reject)
        .end();
    });
  }

  afterAll(async () => {
    await t.close();
  });

  it('redirects / to /console', async () => {
    const res = await t.http().get('/');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/console');
  });

  it.each(['/console', '/console/', '/console/runs/0190a5e0-0000-7000-8000-000000000000', '/console/workflows/x'])(
    'serves the app at %s without a key, under a strict Content-Security-Policy',
    async (path) => {
      const res = await t.http().get(path);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('<div id="app">');
      expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      const csp = res.headers['content-security-policy'];
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers['cache-control']).toBe('no-cache');
    },
  );

  it('serves the hashed assets as immutable, and a missing asset is a 404, not the app', async () => {
    const html = (await t.http().get('/console')).text;
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await t.http().get(script!);
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toContain('immutable');
    const missing = await t.http().get('/console/assets/missing.js');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
  });

  it('sends under 300 kB of gzipped JS and CSS on the first visit, the same files as uncompressed', async () => {
    const html = (await t.http().get('/console/runs')).text;
    const assets = [...html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    let sent = 0;
    for (const asset of assets) {
      const compressed = await fetchRaw(asset, { 'accept-encoding': 'gzip, deflate' });
      expect(compressed.headers['content-encoding']).toBe('gzip');
      expect(compressed.headers['content-type']).toMatch(asset.endsWith('.js') ? /javascript/ : /^text\/css/);
      expect(compressed.headers.vary).toContain('Accept-Encoding');
      expect(compressed.headers['cache-control']).toContain('immutable');
      const plain = await fetchRaw(asset, {});
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(gunzipSync(compressed.body).equals(plain.body)).toBe(true);
      sent += compressed.body.length;
    }
    expect(sent).toBeLessThan(300 * 1024);
  });

  it('leaves the API, webhooks, docs and health as they were', async () => {
    const v1 = await t.http().get('/v1/workflows');
    expect(v1.status).toBe(401);
    expect(v1.body.error.code).toBe('unauthorized');
    expect((await t.http().get('/v1/nothing-here').set(t.auth)).status).toBe(404);
    expect((await t.http().get('/webhooks/workflows/abc')).status).toBe(405);
    expect((await t.http().get('/health/live')).status).toBe(200);
    expect((await t.http().get('/docs-json')).headers['content-type']).toMatch(/json/);
    expect((await t.http().get('/consolex')).status).toBe(404);
  });

  it('is not served by a worker-only process', async () => {
    const worker = await startTestApp({ env: { HOOKRUN_ROLE: 'worker' } });
    try {
      expect(worker.config.role).toBe('worker');
      expect((await worker.http().get('/console')).status).toBe(404);
      expect((await worker.http().get('/')).status).toBe(404);
    } finally {
      await worker.close();
    }
  });
});
