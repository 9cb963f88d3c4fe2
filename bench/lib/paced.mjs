// Open-loop load at an even pace: delivery i is due at start + i / rate, whatever the answers before it.
// autocannon's own rate limit sends each second's quota in a burst at the top of the second, which
// turns a steady rate into bursts (and their queueing into latency); this does not.
import http from 'node:http';

import { nowMs } from './signing.mjs';
import { percentile } from './stats.mjs';

/**
 * @param {{ baseUrl: string, path: string, deliveries: import('./signing.mjs').Delivery[], connections: number,
 *   seconds: number, rate: number }} options
 * @returns {Promise<import('./load.mjs').LoadResult>}
 */
export async function drivePaced(options) {
  // Several API processes: the deliveries go to each in turn.
  const urls = (options.baseUrls ?? [options.baseUrl]).map((base) => new URL(options.path, base));
  // Enough sockets that a slow answer does not hold back the deliveries due after it.
  const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(options.connections, 256) });
  const total = Math.min(options.deliveries.length, Math.ceil(options.rate * options.seconds));
  /** @type {number[]} */
  const latencies = [];
  /** @type {Record<string, number>} */
  const statusCodes = {};
  let errors = 0;
  let timeouts = 0;
  let inFlight = 0;
  let next = 0;
  const start = nowMs();
  const startDate = new Date();
  const intervalMs = 1000 / options.rate;

  /** @param {import('./signing.mjs').Delivery} delivery @param {number} due */
  const send = (delivery, due) => {
    inFlight++;
    // Latency counts from when the delivery was due, so time spent waiting for a socket is included.
    delivery.sentAt = due;
    const req = http.request(urls[next % urls.length], {
      method: 'POST',
      agent,
      timeout: 10_000,
      headers: { ...delivery.headers, 'content-length': Buffer.byteLength(delivery.body) },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => {
        latencies.push(nowMs() - due);
        const code = String(res.statusCode);
        statusCodes[code] = (statusCodes[code] ?? 0) + 1;
        inFlight--;
      });
    });
    req.on('timeout', () => {
      timeouts++;
      req.destroy();
    });
    req.on('error', () => {
      errors++;
      inFlight--;
    });
    req.end(delivery.body);
  };

  await new Promise((resolve) => {
    const tick = () => {
      const now = nowMs();
      while (next < total && start + next * intervalMs <= now) {
        send(options.deliveries[next], start + next * intervalMs);
        next++;
      }
      if (next < total) setTimeout(tick, Math.max(0, Math.min(5, start + next * intervalMs - nowMs())));
      else resolve(undefined);
    };
    tick();
  });
  const sendingEnded = nowMs();
  // The answers still due, for at most the request timeout.
  const deadline = nowMs() + 11_000;
  while (inFlight > 0 && nowMs() < deadline) await new Promise((r) => setTimeout(r, 5));
  agent.destroy();
  const accepted = statusCodes['202'] ?? 0;
  const responses = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  const p = (/** @type {number} */ q) => Math.round((percentile(latencies, q) ?? 0) * 10) / 10;
  return {
    // The window is the sending period: the rate is what was offered over it.
    seconds: Math.round((sendingEnded - start) / 10) / 100,
    start: startDate,
    end: new Date(startDate.getTime() + (sendingEnded - start)),
    sent: next,
    responses,
    accepted,
    non202: responses - accepted + errors + timeouts,
    statusCodes,
    errors,
    timeouts,
    latency: {
      p50: p(50),
      p90: p(90),
      p99: p(99),
      p999: p(99.9),
      max: latencies.length ? Math.round(latencies.reduce((a, b) => (b > a ? b : a), 0) * 10) / 10 : 0,
      mean: latencies.length ? Math.round((latencies.reduce((a, b) => a + b, 0) / latencies.length) * 10) / 10 : 0,
    },
    exhausted: next < Math.ceil(options.rate * options.seconds),
  };
}
