#!/usr/bin/env node
// The "plain node:http" baseline: the ingest of bench/lib/baseline-ingest.mjs behind node:http alone,
// with no framework at all. It is the floor of what accepting a signed webhook costs on this stack.
//
//   node bench/plain-node-server.mjs
//
// Environment: PORT, HOST, and those of bench/lib/baseline-ingest.mjs.
import { createServer } from 'node:http';

import {
  errorAnswer,
  exitOnSignal,
  HttpError,
  ingest,
  MAX_BODY_BYTES,
  prepareBaseline,
} from './lib/baseline-ingest.mjs';

const env = process.env;
const WEBHOOK_PATH = '/webhooks/workflows/';

/** @param {import('node:http').ServerResponse} res @param {number} status @param {unknown} body @param {Record<string, string>} [headers] */
function send(res, status, body, headers = {}) {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}

/** @param {import('node:http').IncomingMessage} req @returns {Promise<Buffer>} */
function readBody(req) {
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    req.on('data', (/** @type {Buffer} */ chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'payload_too_large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const server = createServer((req, res) => {
  const url = req.url ?? '/';
  if (req.method === 'GET' && url === '/health') {
    send(res, 200, { ok: true });
    return;
  }
  if (req.method !== 'POST' || !url.startsWith(WEBHOOK_PATH)) {
    send(res, 404, { error: { status: 404, code: 'not_found', message: 'not_found' } });
    return;
  }
  const query = url.indexOf('?');
  readBody(req)
    .then((raw) =>
      ingest(decodeURIComponent(url.slice(WEBHOOK_PATH.length, query < 0 ? undefined : query)), req.headers, raw),
    )
    .then(
      ({ runId, replayed }) => {
        const headers = { location: `/v1/workflow-runs/${runId}` };
        send(
          res,
          202,
          { data: { runId, status: 'queued' } },
          replayed ? { ...headers, 'idempotent-replayed': 'true' } : headers,
        );
      },
      (error) => {
        const answer = errorAnswer(error);
        if (!res.destroyed) send(res, answer.status, answer.body);
      },
    );
});

await prepareBaseline();
server.listen(Number(env.PORT ?? 3100), env.HOST ?? '127.0.0.1');
exitOnSignal(server);
