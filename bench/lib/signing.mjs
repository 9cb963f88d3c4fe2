// Signed webhook deliveries, made before the clock starts: every one with its own webhook-id and a
// Standard Webhooks signature (v1, HMAC-SHA256 over `${id}.${timestamp}.${body}`).
import { createHmac } from 'node:crypto';

/**
 * @typedef {{ headers: Record<string, string>, body: string, id: string, sentAt: number }} Delivery
 */

/**
 * A realistic small event (~300 bytes), different for each delivery.
 * @param {number} i
 */
export function eventBody(i) {
  return JSON.stringify({
    type: 'order.created',
    id: `evt_${i}`,
    createdAt: '2025-11-27T08:00:00.000Z',
    data: {
      orderId: `ord_${i}`,
      customer: { id: 'cus_42', email: 'ada@example.com', country: 'FR' },
      currency: 'EUR',
      items: [
        { sku: 'A-1', price: 12.5, qty: 2 },
        { sku: 'B-7', price: 3.2, qty: 5 },
        { sku: 'C-3', price: 99, qty: 1 },
      ],
    },
  });
}

/** The one-step workflow every scenario runs: a JSONata transform of the event. */
export const BENCH_DEFINITION = {
  steps: [{ id: 'total', type: 'transform', expression: '$sum(input.data.items.(price * qty))' }],
  output: '{ "orderId": input.data.orderId, "total": steps.total.output }',
};

/**
 * `count` signed deliveries with ids `${tag}_${i}`, timestamped now.
 * @param {string} secret whsec_...
 * @param {number} count
 * @param {string} tag unique per pool, so that no webhook-id repeats within an invocation
 * @returns {Delivery[]}
 */
export function signedDeliveries(secret, count, tag) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const timestamp = String(Math.floor(Date.now() / 1000));
  /** @type {Delivery[]} */
  const out = new Array(count);
  for (let i = 0; i < count; i++) {
    const id = `msg_${tag}_${i}`;
    const body = eventBody(i);
    const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
    out[i] = {
      id,
      body,
      sentAt: 0,
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': timestamp,
        'webhook-signature': `v1,${signature}`,
      },
    };
  }
  return out;
}

/** Wall-clock ms with sub-ms precision (comparable with PostgreSQL's timestamps on this machine). */
export function nowMs() {
  return performance.timeOrigin + performance.now();
}
