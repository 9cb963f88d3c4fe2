#!/usr/bin/env node
// CPU per JSONata evaluation of the built evaluator (dist/engine/expression.evaluator.js, or --module <path> of another
// build, to compare): process CPU (every thread) over wall-clock batches, at 1 and at 25 evaluations in flight,
// with a small context and with a ~100 KB one (structured clone cost). Not part of `npm run bench`.
//   npm run build && node bench/expression-cost.mjs [--module path/to/expression.js] [--threads 2] [--seconds 3]
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    module: { type: 'string', default: 'dist/engine/expression.evaluator.js' },
    threads: { type: 'string' },
    seconds: { type: 'string', default: '3' },
  },
});
const { ExpressionEvaluator } = await import(pathToFileURL(resolve(values.module)).href);
const options = { timeoutMs: 30_000 };
if (values.threads) options.threads = Number(values.threads);
const evaluator = new ExpressionEvaluator(options);
const seconds = Number(values.seconds);

const EXPRESSION = '$sum(input.items.(price*qty))';
const items = Array.from({ length: 5 }, (_, i) => ({ sku: `sku-${i}`, price: 10 + i, qty: i + 1 }));
const small = { input: { items }, steps: {}, run: { id: 'r', workflowId: 'w', trigger: { type: 'api' } } };
// ~100 KB of webhook body beside the items the expression reads.
const filler = Array.from({ length: 800 }, (_, i) => ({ id: `evt_${i}`, type: 'deal.updated', note: 'x'.repeat(80) }));
const large = { ...small, input: { items, events: filler } };

async function measure(context, concurrency) {
  let count = 0;
  const loop = async (until) => {
    while (Date.now() < until) {
      await evaluator.evaluate(EXPRESSION, context);
      count++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => loop(Date.now() + 500))); // warm-up
  count = 0;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const until = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, () => loop(until)));
  const used = process.cpuUsage(cpu);
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  return { perEvalUs: (used.user + used.system) / count, perSecond: Math.round((count / wallMs) * 1000) };
}

console.log(`context sizes: small ${JSON.stringify(small).length} B, large ${JSON.stringify(large).length} B`);
for (const [name, context] of [
  ['small', small],
  ['large', large],
]) {
  for (const concurrency of [1, 25]) {
    const { perEvalUs, perSecond } = await measure(context, concurrency);
    console.log(`${name} x${concurrency}: ${perEvalUs.toFixed(1)} µs CPU per evaluation, ${perSecond}/s`);
  }
}
await evaluator.close?.();
