// Drives signed deliveries at a server with autocannon, and sends single deliveries one at a time.
import http from 'node:http';

import autocannon from 'autocannon';

import { drivePaced } from './paced.mjs';
import { nowMs } from './signing.mjs';

/**
 * @typedef {import('./signing.mjs').Delivery} Delivery
 * @typedef {{ p50: number, p90: number, p99: number, p999: number, max: number, mean: number }} Latency
 * @typedef {object} LoadResult
 * @property {number} seconds actual length of the window
 * @property {Date} start
 * @property {Date} end
 * @property {number} sent deliveries handed to autocannon
 * @property {number} responses
 * @property {number} accepted 202 answers
 * @property {number} non202 answers other than 202, plus errors and timeouts
 * @property {Record<string, number>} statusCodes
 * @property {number} errors
 * @property {number} timeouts
 * @property {Latency} latency HTTP latency (ms) as autocannon measured it
 * @property {boolean} exhausted the prepared deliveries ran out before the duration
 */

/**
 * Sends prepared deliveries over `connections` keep-alive connections for `seconds`, closed loop with
 * autocannon; or, with `overallRate`, open loop at an even pace (bench/lib/paced.mjs). Each delivery is
 * used once; when they run out, the run stops early (and says so) rather than repeat a webhook-id.
 * With `baseUrls` (several API processes), the connections are shared out among them.
 * @param {{ baseUrl: string, baseUrls?: string[], path: string, deliveries: Delivery[], connections: number,
 *   seconds: number, overallRate?: number, fallbackPath: string }} options
 * @returns {Promise<LoadResult>}
 */
export async function drive(options) {
  if (options.overallRate) return drivePaced({ ...options, rate: options.overallRate });
  const { deliveries } = options;
  let next = 0;
  let exhausted = false;
  /** @type {ReturnType<typeof autocannon>[]} */
  const instances = [];
  const setupRequest = (/** @type {any} */ request) => {
    if (next >= deliveries.length) {
      if (!exhausted) {
        exhausted = true;
        setImmediate(() => instances.forEach((i) => i.stop()));
      }
      return { ...request, method: 'GET', path: options.fallbackPath, headers: {}, body: undefined };
    }
    const delivery = deliveries[next++];
    delivery.sentAt = nowMs();
    return { ...request, method: 'POST', path: options.path, headers: delivery.headers, body: delivery.body };
  };
  const baseUrls = options.baseUrls ?? [options.baseUrl];
  const results = await Promise.all(
    baseUrls.map(
      (url) =>
        new Promise((resolve, reject) => {
          instances.push(
            autocannon(
              {
                url,
                connections: Math.max(1, Math.round(options.connections / baseUrls.length)),
                duration: options.seconds,
                timeout: 10,
                requests: [{ setupRequest }],
              },
              (/** @type {Error | null} */ error, /** @type {any} */ res) => (error ? reject(error) : resolve(res)),
            ),
          );
        }),
    ),
  );
  // Latency is the first process's (autocannon's percentiles cannot be merged); counts are summed.
  const r = /** @type {any} */ ({
    .../** @type {any} */ (results[0]),
    errors: results.reduce((n, /** @type {any} */ x) => n + x.errors, 0),
    timeouts: results.reduce((n, /** @type {any} */ x) => n + x.timeouts, 0),
  });
  /** @type {Record<string, number>} */
  const statusCodes = {};
  for (const res of /** @type {any[]} */ (results)) {
    for (const [code, stat] of Object.entries(res.statusCodeStats ?? {})) {
      statusCodes[code] = (statusCodes[code] ?? 0) + /** @type {any} */ (stat).count;
    }
  }
  const accepted = statusCodes['202'] ?? 0;
  const responses = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  return {
    seconds: r.duration,
    start: new Date(r.start),
    end: new Date(r.finish),
    sent: Math.min(next, deliveries.length),
    responses,
    accepted,
    non202: responses - accepted + r.errors + r.timeouts,
    statusCodes,
    errors: r.errors,
    timeouts: r.timeouts,
    latency: {
      p50: r.latency.p50,
      p90: r.latency.p90,
      p99: r.latency.p99,
      p999: r.latency.p99_9,
      max: r.latency.max,
      mean: r.latency.mean,
    },
    exhausted,
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/**
 * One POST of a delivery; resolves with the status, the parsed body and the time it took.
 * @param {string} baseUrl
 * @param {string} path
 * @param {Delivery} delivery
 * @returns {Promise<{ status: number, body: any, ms: number }>}
 */
export function postOne(baseUrl, path, delivery) {
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    delivery.sentAt = nowMs();
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { ...delivery.headers, 'content-length': Buffer.byteLength(delivery.body) },
      },
      (res) => {
        /** @type {Buffer[]} */
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const ms = nowMs() - delivery.sentAt;
          let body = null;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            // Not JSON: kept as null.
          }
          resolve({ status: res.statusCode ?? 0, body, ms });
        });
      },
    );
    req.on('error', reject);
    req.end(delivery.body);
  });
}
