import { describe, expect, it } from '@jest/globals';

import { ExpressionError, ExpressionEvaluator, validateExpression, validateTemplate } from './expression.js';

const RUNAWAY = '( $f := function($n){ $n > 0 ? $f($n-1) + $f($n-1) : 0 }; $f(input.n) )';

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

async function timed<T>(action: () => Promise<T>): Promise<{ elapsed: number; value?: T; error?: ExpressionError }> {
  const start = Date.now();
  try {
    const value = await action();
    return { elapsed: Date.now() - start, value };
  } catch (err) {
    return { elapsed: Date.now() - start, error: err as ExpressionError };
  }
}

describe('ExpressionEvaluator.evaluate', () => {
  const evaluator = new ExpressionEvaluator();

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

    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
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

  it('stops runaway recursion by the time limit, well under 2 s', async () => {
    const { elapsed, error } = await timed(() => evaluator.evaluate(RUNAWAY, { input: { n: 40 } }));

    expect(error).toBeInstanceOf(ExpressionError);
    expect(error?.code).toBe('expression_timeout');
    expect(error?.message).toBe('the expression did not finish within 1000 ms');
    expect(elapsed).toBeLessThan(1500);
  });

  it('takes a time limit per call that replaces the default', async () => {
    const { elapsed, error } = await timed(() => evaluator.evaluate(RUNAWAY, { input: { n: 40 } }, 50));

    expect(error?.code).toBe('expression_timeout');
    expect(elapsed).toBeLessThan(500);

    const strict = new ExpressionEvaluator({ timeoutMs: 1 });
    const work = '$sum($map([1..20000], function($x){ $x * 2 }))';
    await expect(strict.evaluate(work, {})).rejects.toMatchObject({ code: 'expression_timeout' });
    await expect(strict.evaluate(work, {}, 10_000)).resolves.toBe(400_020_000);
  });

  it('stops deep recursion by the depth limit before the time limit', async () => {
    const deep = '( $f := function($n){ $n > 0 ? 1 + $f($n-1) : 0 }; $f(input.n) )';

    await expect(evaluator.evaluate(deep, { input: { n: 100 } })).resolves.toBe(100);
    const { elapsed, error } = await timed(() => evaluator.evaluate(deep, { input: { n: 100_000 } }));
    expect(error?.code).toBe('expression_error');
    expect(error?.message).toContain('deeper than 500');
    expect(elapsed).toBeLessThan(500);

    const shallow = new ExpressionEvaluator({ maxDepth: 20 });
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

  it('keeps parallel evaluations of the same cached expression apart', async () => {
    const start = Date.now();
    const [short, long, quick] = await Promise.all([
      timed(() => evaluator.evaluate(RUNAWAY, { input: { n: 40 } }, 100)),
      timed(() => evaluator.evaluate(RUNAWAY, { input: { n: 40 } }, 600)),
      timed(() => evaluator.evaluate(RUNAWAY, { input: { n: 3 } }, 1000)),
    ]);

    expect(short.error?.code).toBe('expression_timeout');
    expect(short.error?.message).toContain('100 ms');
    expect(short.elapsed).toBeLessThan(450);
    // A deadline shared through the cached expression would have stopped this one with the first.
    expect(long.error?.code).toBe('expression_timeout');
    expect(long.error?.message).toContain('600 ms');
    expect(long.elapsed).toBeGreaterThanOrEqual(590);
    expect(quick.value).toBe(0);
    expect(Date.now() - start).toBeLessThan(1500);
  });

  it('keeps parallel depth counts apart', async () => {
    const deep = '( $f := function($n){ $n > 0 ? 1 + $f($n-1) : 0 }; $f(input.n) )';
    const evaluations = Array.from({ length: 20 }, () => evaluator.evaluate(deep, { input: { n: 120 } }));

    await expect(Promise.all(evaluations)).resolves.toEqual(Array.from({ length: 20 }, () => 120));
  });
});

describe('ExpressionEvaluator.compile', () => {
  it('caches compiled expressions by their text, dropping the least recently used', () => {
    const evaluator = new ExpressionEvaluator({ cacheSize: 2 });
    const a = evaluator.compile('1 + 1');
    const b = evaluator.compile('2 + 2');

    expect(evaluator.compile('1 + 1')).toBe(a);
    evaluator.compile('3 + 3');

    expect(evaluator.compile('1 + 1')).toBe(a);
    expect(evaluator.compile('2 + 2')).not.toBe(b);
  });

  it('throws expression_invalid for an expression that does not compile', () => {
    const error = compileFailure(() => new ExpressionEvaluator().compile('$count(('));

    expect(error.code).toBe('expression_invalid');
    expect(error.message).toMatch(/at position \d+$/);
  });

  it('returns an expression that evaluates with the limits of its evaluator', async () => {
    const compiled = new ExpressionEvaluator({ timeoutMs: 50 }).compile(RUNAWAY);

    expect(compiled.source).toBe(RUNAWAY);
    await expect(compiled.evaluate({ input: { n: 2 } })).resolves.toBe(0);
    await expect(compiled.evaluate({ input: { n: 40 } })).rejects.toMatchObject({
      code: 'expression_timeout',
      message: 'the expression did not finish within 50 ms',
    });
  });
});

describe('ExpressionEvaluator.renderTemplate', () => {
  const evaluator = new ExpressionEvaluator();
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
