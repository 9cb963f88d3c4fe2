import { afterAll, describe, expect, it } from '@jest/globals';

import {
  ExpressionError,
  ExpressionEvaluator,
  INLINE_SLICE_MS,
  MAX_EXPRESSION_TIMEOUT_MS,
  runsInline,
  validateExpression,
  validateTemplate,
  type CompiledExpression,
  type ExpressionEvaluatorOptions,
} from './expression.evaluator.js';

/** 2^n calls: with n = 40 it never ends, whatever the machine; the jsonata hooks see every call. */
const RUNAWAY = '( $f := function($n){ $n > 0 ? $f($n-1) + $f($n-1) : 0 }; $f(input.n) )';
/** Catastrophic backtracking: one native call that never returns, out of reach of jsonata's hooks. */
const REDOS = `$match("${'a'.repeat(40)}!", /(a+)+$/)`;
/** Where a limit must not be hit, it is far beyond what any machine, however busy, needs. */
const NEVER_HIT_MS = 30_000;
/** jest's own limit for the tests that wait for several time limits on purpose. */
const SLOW_TEST_MS = 60_000;

const evaluators: ExpressionEvaluator[] = [];
afterAll(async () => {
  await Promise.all(evaluators.map((e) => e.close()));
});

/** An evaluator closed after the file's tests. */
function evaluatorWith(options: ExpressionEvaluatorOptions = {}): ExpressionEvaluator {
  const evaluator = new ExpressionEvaluator({ timeoutMs: NEVER_HIT_MS, ...options });
  evaluators.push(evaluator);
  return evaluator;
}

async function failure(promise: Promise<unknown>): Promise<ExpressionError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ExpressionError);
    return err as ExpressionError;
  }
  throw new Error('expected the evaluation to fail');
}

function compileFailure(action: () => unknown): ExpressionError {
  try {
    action();
  } catch (err) {
    expect(err).toBeInstanceOf(ExpressionError);
    return err as ExpressionError;
  }
  throw new Error('expected a compile error');
}

/** A plain object, possibly of another realm (results cross threads; jest runs tests in a vm context). */
function isPlainObject(value: unknown): boolean {
  const prototype = Object.getPrototypeOf(value) as object | null;
  return prototype !== null && Object.getPrototypeOf(prototype) === null && prototype.constructor.name === 'Object';
}

describe('ExpressionEvaluator.evaluate', () => {
  const evaluator = evaluatorWith();

  it('returns the value of the expression against the context', async () => {
    const context = { input: { deals: [{ amount: 10 }, { amount: 32 }], companyId: 'c1' } };

    await expect(evaluator.evaluate('$count(input.deals)', context)).resolves.toBe(2);
    await expect(evaluator.evaluate('$sum(input.deals.amount)', context)).resolves.toBe(42);
    await expect(
      evaluator.evaluate("{ 'company': input.companyId, 'big': input.deals[amount > 20].amount }", context),
    ).resolves.toEqual({ company: 'c1', big: 32 });
    await expect(evaluator.evaluate('input.deals.amount', context)).resolves.toEqual([10, 32]);
  });

  it('returns plain JSON objects, so outputs serialise and compare like the data they stand for', async () => {
    const value = await evaluator.evaluate("{ 'a': { 'b': [1, 2] } }", {});

    expect(isPlainObject(value)).toBe(true);
    expect(isPlainObject((value as { a: unknown }).a)).toBe(true);
    expect(JSON.stringify(value)).toBe('{"a":{"b":[1,2]}}');
    const passedThrough = await evaluator.evaluate('input', { input: { kept: 1, gone: undefined } });
    expect(Object.keys(passedThrough as object)).toEqual(['kept']);
  });

  it('keeps a "__proto__" key of the data as a key', async () => {
    const input = JSON.parse('{"__proto__": {"x": 1}}') as object;

    const value = await evaluator.evaluate('input', { input });

    expect(JSON.stringify(value)).toBe('{"__proto__":{"x":1}}');
  });

  it('turns an undefined result (nothing matched) into null', async () => {
    await expect(evaluator.evaluate('input.missing', { input: {} })).resolves.toBeNull();
    await expect(evaluator.evaluate('input[x > 5]', { input: [{ x: 1 }] })).resolves.toBeNull();
  });

  it('refuses a function as a result: it is not JSON', async () => {
    const error = await failure(evaluator.evaluate('function($x){ $x }', {}));

    expect(error.code).toBe('expression_error');
    expect(error.message).toContain('function');
  });

  it('reports an expression that does not compile as expression_invalid, with JSONata message and position', async () => {
    const error = await failure(evaluator.evaluate('input.a +', {}));

    expect(error.code).toBe('expression_invalid');
    expect(error.message).toBe('Unexpected end of expression at position 9');
    expect(error.position).toBe(9);
    expect(error.jsonataCode).toBe('S0207');
  });

  it('reports a failing evaluation as expression_error, with JSONata message and position', async () => {
    const error = await failure(evaluator.evaluate('input.name + 1', { input: { name: 'x' } }));

    expect(error.code).toBe('expression_error');
    expect(error.message).toMatch(/The left side of the "\+" operator must evaluate to a number at position \d+/);
    expect(error.jsonataCode).toBe('T2001');
  });

  it('never puts the evaluated data into the error message', async () => {
    const context = { input: { token: 's3cr3t-value', other: 'hunter2' } };

    const negated = await failure(evaluator.evaluate('-input.token', context));
    const parsed = await failure(evaluator.evaluate('$toMillis(input.token)', context));
    const compared = await failure(evaluator.evaluate('input.token < 3', context));

    for (const error of [negated, parsed, compared]) {
      expect(error.code).toBe('expression_error');
      expect(error.message).not.toContain('s3cr3t');
      expect(error.message).toContain('<value>');
    }
    expect(negated.message).toBe('Cannot negate a non-numeric value: <value> at position 1');
  });

  it('stops runaway recursion at the time limit, by default 1000 ms', async () => {
    const error = await failure(evaluatorWith({ timeoutMs: undefined }).evaluate(RUNAWAY, { input: { n: 40 } }));

    expect(error.code).toBe('expression_timeout');
    expect(error.message).toBe('the expression did not finish within 1000 ms');
  });

  it('takes a time limit per call that replaces the default', async () => {
    const error = await failure(evaluator.evaluate(RUNAWAY, { input: { n: 40 } }, 50));

    expect(error).toMatchObject({ code: 'expression_timeout', message: 'the expression did not finish within 50 ms' });
    const strict = evaluatorWith({ timeoutMs: 1 });
    await expect(strict.evaluate(RUNAWAY, { input: { n: 40 } })).rejects.toMatchObject({
      code: 'expression_timeout',
      message: 'the expression did not finish within 1 ms',
    });
    await expect(strict.evaluate(RUNAWAY, { input: { n: 10 } }, NEVER_HIT_MS)).resolves.toBe(0);
  });

  it('caps every time limit, so that no evaluation holds a thread for hours', async () => {
    const capped = evaluatorWith({ maxTimeoutMs: 100 });
    const day = 24 * 3_600_000;

    await expect(capped.evaluate(RUNAWAY, { input: { n: 40 } }, day)).rejects.toMatchObject({
      code: 'expression_timeout',
      message: 'the expression did not finish within 100 ms',
    });
    await expect(capped.renderTemplate(`{{ ${RUNAWAY} }}`, { input: { n: 40 } }, day)).rejects.toMatchObject({
      code: 'expression_timeout',
      message: 'the expression did not finish within 100 ms',
    });
    expect(MAX_EXPRESSION_TIMEOUT_MS).toBe(60_000);
  });

  it('stops deep recursion by the depth limit, not by the time limit', async () => {
    const deep = '( $f := function($n){ $n > 0 ? 1 + $f($n-1) : 0 }; $f(input.n) )';

    await expect(evaluator.evaluate(deep, { input: { n: 100 } })).resolves.toBe(100);
    const error = await failure(evaluator.evaluate(deep, { input: { n: 100_000 } }));
    expect(error.code).toBe('expression_error');
    expect(error.message).toBe('the expression nested deeper than 500 evaluations (runaway recursion?)');

    const shallow = evaluatorWith({ maxDepth: 20 });
    await expect(shallow.evaluate(deep, { input: { n: 100 } })).rejects.toMatchObject({ code: 'expression_error' });
  });

  it('does not count the items of arrays and objects built from large data as depth', async () => {
    const items = Array.from({ length: 2000 }, (_, i) => ({ sku: `k${i}`, qty: i }));
    const bySku = (await evaluator.evaluate("input{ sku: { 'qty': $sum(qty), 'tags': [sku, $string(qty)] } }", {
      input: items,
    })) as Record<string, unknown>;
    const literal = `[${Array.from({ length: 1000 }, (_, i) => `$string(${i})`).join(', ')}]`;

    expect(Object.keys(bySku)).toHaveLength(2000);
    expect(bySku.k7).toEqual({ qty: 7, tags: ['k7', '7'] });
    await expect(evaluator.evaluate(literal, {})).resolves.toHaveLength(1000);
  });

  it('keeps the limits of evaluations of the same cached expression apart', async () => {
    // One thread: the three share its compiled expression, one after the other.
    const single = evaluatorWith({ threads: 1, inline: false });
    const ended: string[] = [];
    const settle = (name: string, promise: Promise<unknown>) =>
      promise.then(
        (value) => ended.push(`${name}: ${JSON.stringify(value)}`),
        (error: ExpressionError) => ended.push(`${name}: ${error.message}`),
      );

    await Promise.all([
      settle('short', single.evaluate(RUNAWAY, { input: { n: 40 } }, 100)),
      // Its deadline would have passed before it started, had the first one's been kept in the expression.
      settle('quick', single.evaluate(RUNAWAY, { input: { n: 3 } })),
      settle('long', single.evaluate(RUNAWAY, { input: { n: 40 } }, 300)),
    ]);

    expect(ended).toEqual([
      'short: the expression did not finish within 100 ms',
      'quick: 0',
      'long: the expression did not finish within 300 ms',
    ]);
  });

  it('keeps parallel depth counts apart', async () => {
    const deep = '( $f := function($n){ $n > 0 ? 1 + $f($n-1) : 0 }; $f(input.n) )';
    const evaluations = Array.from({ length: 20 }, () => evaluator.evaluate(deep, { input: { n: 120 } }));

    await expect(Promise.all(evaluations)).resolves.toEqual(Array.from({ length: 20 }, () => 120));
  });
});

describe('ExpressionEvaluator.compile', () => {
  it('caches compiled expressions by their text, dropping the least recently used', () => {
    const evaluator = evaluatorWith({ cacheSize: 2 });
    const a = evaluator.compile('1 + 1');
    const b = evaluator.compile('2 + 2');

    expect(evaluator.compile('1 + 1')).toBe(a);
    evaluator.compile('3 + 3');

    expect(evaluator.compile('1 + 1')).toBe(a);
    expect(evaluator.compile('2 + 2')).not.toBe(b);
  });

  it('throws expression_invalid for an expression that does not compile', () => {
    const error = compileFailure(() => evaluatorWith().compile('$count(('));

    expect(error.code).toBe('expression_invalid');
    expect(error.message).toMatch(/at position \d+$/);
  });

  it('returns an expression that evaluates with the limits of its evaluator', async () => {
    const compiled = evaluatorWith({ timeoutMs: 50 }).compile(RUNAWAY);

    expect(compiled.source).toBe(RUNAWAY);
    await expect(compiled.evaluate({ input: { n: 2 } }, NEVER_HIT_MS)).resolves.toBe(0);
    await expect(compiled.evaluate({ input: { n: 40 } })).rejects.toMatchObject({
      code: 'expression_timeout',
      message: 'the expression did not finish within 50 ms',
    });
  });
});

describe('ExpressionEvaluator.renderTemplate', () => {
  const evaluator = evaluatorWith();
  const context = { input: { name: 'Ada', count: 3, tags: ['a', 'b'], company: { id: 7 }, empty: null } };

  it('replaces each {{ expr }}: strings as they are, other values as JSON, null and undefined as nothing', async () => {
    const rendered = await evaluator.renderTemplate(
      'Hi {{ input.name }}: {{input.count}} {{ input.tags }} {{ input.company }} [{{ input.empty }}] [{{ input.none }}]',
      context,
    );

    expect(rendered).toBe('Hi Ada: 3 ["a","b"] {"id":7} [] []');
  });

  it('reads expressions containing braces and "}}" inside strings', async () => {
    await expect(evaluator.renderTemplate("{{ {'company': {'id': input.company.id}} }}", context)).resolves.toBe(
      '{"company":{"id":7}}',
    );
    await expect(evaluator.renderTemplate("<{{ 'a}}b' }}>", context)).resolves.toBe('<a}}b>');
  });

  it('returns a template without expressions unchanged', async () => {
    await expect(evaluator.renderTemplate('no expressions { here }', context)).resolves.toBe('no expressions { here }');
  });

  it('reports errors of its expressions with their codes', async () => {
    const invalid = await failure(evaluator.renderTemplate('id {{ input.company.id + }}', context));
    const unclosed = await failure(evaluator.renderTemplate('id {{ input.name', context));
    const failing = await failure(evaluator.renderTemplate('{{ input.name * 2 }}', context));
    const slow = await failure(evaluator.renderTemplate(`a {{ ${RUNAWAY} }}`, { input: { n: 40 } }, 50));

    expect(invalid.code).toBe('expression_invalid');
    expect(unclosed).toMatchObject({ code: 'expression_invalid', message: '"{{" at position 3 is not closed by "}}"' });
    expect(failing.code).toBe('expression_error');
    expect(slow.code).toBe('expression_timeout');
  });
});

describe('validateExpression and validateTemplate', () => {
  it('accept what compiles and throw expression_invalid otherwise', () => {
    expect(() => validateExpression('steps.score.output > 2')).not.toThrow();
    expect(compileFailure(() => validateExpression('steps.score.output >')).code).toBe('expression_invalid');
    expect(() => validateTemplate('Deal {{ input.id }} scored {{ steps.score.output }}')).not.toThrow();
    expect(compileFailure(() => validateTemplate('Deal {{ input.id ) }}')).code).toBe('expression_invalid');
  });

  it('gives template positions from the start of the template', () => {
    const error = compileFailure(() => validateTemplate('0123456 {{ a b }}'));

    expect(error.position).toBe(14);
    expect(error.message).toBe('Syntax error: "b" at position 14');
  });
});

describe('evaluation threads', () => {
  /** Records the order in which evaluations and timers end. */
  function recorder() {
    const events: string[] = [];
    const track = (name: string, promise: Promise<unknown>) =>
      promise.then(
        (value) => events.push(`${name} ${JSON.stringify(value)}`),
        (error: ExpressionError) => events.push(`${name} ${error.code}`),
      );
    return { events, track };
  }

  it(
    'keep the calling thread free: timers and cheap evaluations go on while hostile expressions run',
    async () => {
      const evaluator = evaluatorWith({ threads: 3, inline: false });
      // Three threads started and ready, so that no thread start is part of what follows.
      await Promise.all([1, 2, 3].map((n) => evaluator.evaluate('n + 1', { n })));
      const { events, track } = recorder();

      const hostile = [
        track('regex', evaluator.evaluate(REDOS, {}, 5000)),
        track('recursion', evaluator.evaluate(RUNAWAY, { input: { n: 40 } }, 5000)),
      ];
      const cheap = track('cheap', evaluator.evaluate('$sum(input.items)', { input: { items: [1, 2] } }));
      const timer = new Promise((resolve) => setTimeout(resolve, 0)).then(() => events.push('timer'));
      await Promise.all([...hostile, cheap, timer]);

      expect(events.slice(0, 2).sort()).toEqual(['cheap 3', 'timer']);
      expect(events.slice(2).sort()).toEqual(['recursion expression_timeout', 'regex expression_timeout']);
      // The thread that ran the regex was terminated and replaced.
      await expect(Promise.all([1, 2, 3, 4].map((n) => evaluator.evaluate('n * 2', { n })))).resolves.toEqual([
        2, 4, 6, 8,
      ]);
    },
    SLOW_TEST_MS,
  );

  it(
    'count the limit of an evaluation from when a thread starts it, not from when it was queued',
    async () => {
      const single = evaluatorWith({ threads: 1, inline: false });
      const { events, track } = recorder();

      await Promise.all([
        track('hostile', single.evaluate(REDOS, {}, 4000)),
        // Queued for longer than its own limit, which it needs only a sliver of.
        track('queued', single.evaluate('input.n * 2', { input: { n: 21 } }, 3000)),
      ]);

      expect(events).toEqual(['hostile expression_timeout', 'queued 42']);
    },
    SLOW_TEST_MS,
  );

  it('queue evaluations beyond the threads and answer each with its own result', async () => {
    const evaluator = evaluatorWith({ threads: 2, inline: false });
    const inputs = Array.from({ length: 25 }, (_, n) => ({ input: { items: [{ price: n, qty: 2 }] } }));

    const results = await Promise.all(
      inputs.map((context) => evaluator.evaluate('$sum(input.items.(price*qty))', context)),
    );

    expect(results).toEqual(inputs.map((_, n) => n * 2));
  });

  it(
    'fail only the evaluation whose thread runs out of memory',
    async () => {
      const evaluator = evaluatorWith({ threads: 2, threadMemoryMb: 16, inline: false });
      const { events, track } = recorder();

      await Promise.all([
        track('greedy', evaluator.evaluate('$count([1..1000000].{ "n": $string($) })', {})),
        track('cheap', evaluator.evaluate('1 + 1', {})),
      ]);

      expect(events.sort()).toEqual(['cheap 2', 'greedy expression_error']);
      await expect(evaluator.evaluate('$count([1..1000000].{ "n": $string($) })', {})).rejects.toMatchObject({
        code: 'expression_error',
        message: 'the expression ran out of memory',
      });
      await expect(evaluator.evaluate('2 + 2', {})).resolves.toBe(4);
    },
    SLOW_TEST_MS,
  );

  it('refuse a context that is not data, without losing the thread', async () => {
    const evaluator = evaluatorWith({ threads: 1, inline: false });

    await expect(evaluator.evaluate('input', { input: { f: () => 1 } })).rejects.toMatchObject({
      code: 'expression_error',
      message: 'the context cannot be evaluated (DataCloneError)',
    });
    await expect(evaluator.evaluate('input', { input: { a: [1] } })).resolves.toEqual({ a: [1] });
  });

  it('end with close(): what is in flight or queued rejects with a plain Error, and so does what comes after', async () => {
    const evaluator = new ExpressionEvaluator({ threads: 1, timeoutMs: NEVER_HIT_MS, inline: false });
    await expect(evaluator.evaluate('1', {})).resolves.toBe(1);
    const outcome = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (err: unknown) => err,
      );
    const inFlight = outcome(evaluator.evaluate(REDOS, {}));
    const queued = outcome(evaluator.evaluate('2', {}));

    await evaluator.close();

    for (const error of await Promise.all([inFlight, queued, outcome(evaluator.evaluate('3', {}))])) {
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(ExpressionError);
      expect((error as Error).message).toBe('the expression evaluator is closed');
    }
  });
});

describe('evaluation on the calling thread', () => {
  it('is for expressions whose every step is checked against the deadline, and no long native call', () => {
    for (const inline of [
      '$sum(input.data.items.(price * qty))',
      '{ "orderId": input.data.orderId, "total": steps.total.output }',
      '$uppercase(input.name) & " " & $string(input.n)',
      'input.name ~> $lowercase',
      '( $f := function($x) { $x * 2 }; $f(input.n) )',
      'input.items[price > 2]',
      'input.items@$i#$n.{ "at": $n, "i": $i }',
      '$ = $$',
    ]) {
      expect([inline, runsInline(inline)]).toEqual([inline, true]);
    }
    for (const threaded of [
      '$match(input.s, /a+/)',
      '$sort(input.items)',
      'input.items^(price)',
      '[1..10]',
      '$map(input.items, $string)',
      '$eval("1 + 1")',
      '$distinct(input.items)',
      '$pad("", 9)',
      '$unknown + 1',
      'input ~> $sort',
    ]) {
      expect([threaded, runsInline(threaded)]).toEqual([threaded, false]);
    }
  });

  it('moves an expression that runs past its slice to a thread, for good, and still gives its value', async () => {
    const evaluator = evaluatorWith({ threads: 1 });
    // Quadratic in the items: far more than the slice on any machine, well within the limit.
    const quadratic = '$count(input.items.($$.input.items.($$.input.items[0])))';
    expect(runsInline(quadratic)).toBe(true);
    const context = { input: { items: Array.from({ length: 400 }, (_, i) => i) } };
    const compiled = evaluator.compile(quadratic) as CompiledExpression & { inline: boolean };
    expect(compiled.inline).toBe(true);

    await expect(compiled.evaluate(context)).resolves.toBe(160_000);

    expect(compiled.inline).toBe(false);
    await expect(compiled.evaluate({ input: { items: [1, 2] } })).resolves.toBe(4);
  });

  it('gives a timer its turn while an inline expression runs long', async () => {
    const evaluator = evaluatorWith({ threads: 1 });
    const events: string[] = [];
    const long = evaluator
      .evaluate(RUNAWAY, { input: { n: 40 } }, 3000)
      .catch((error: ExpressionError) => events.push(`runaway ${error.code}`));
    const timer = new Promise((resolve) => setTimeout(resolve, 0)).then(() => events.push('timer'));
    await Promise.all([long, timer]);

    expect(events).toEqual(['timer', 'runaway expression_timeout']);
  });

  it(`stops an inline expression at its own limit when that is shorter than the slice (${INLINE_SLICE_MS} ms)`, async () => {
    const evaluator = evaluatorWith();
    await expect(evaluator.evaluate(RUNAWAY, { input: { n: 40 } }, 1)).rejects.toMatchObject({
      code: 'expression_timeout',
      message: 'the expression did not finish within 1 ms',
    });
  });
});
