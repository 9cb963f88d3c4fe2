import { describe, expect, it } from '@jest/globals';

import { MAX_BODY_DEPTH } from '../../common/validation.pipe.js';
import { jsonLimitsProblem, NUMBER_OUT_OF_RANGE } from './webhook-json-limits.util.js';

const TOO_DEEP = `Body is nested deeper than ${MAX_BODY_DEPTH} levels`;

const problem = (text: string) => jsonLimitsProblem(Buffer.from(text, 'utf8'));

/** `levels` nested arrays, alternating with objects when `mixed`, around `inner`. */
function nested(levels: number, inner = '1', mixed = false): string {
  let text = inner;
  for (let level = levels; level >= 1; level--) {
    text = mixed && level % 2 === 0 ? `{"k${level}": ${text}}` : `[${text}]`;
  }
  return text;
}

/** What JSON.parse makes of it, to be sure each case is JSON (or, where said, is not). */
function depthOf(text: string): number {
  let deepest = 0;
  const walk = (value: unknown, level: number): void => {
    if (value === null || typeof value !== 'object') return;
    deepest = Math.max(deepest, level);
    for (const child of Object.values(value)) walk(child, level + 1);
  };
  walk(JSON.parse(text), 1);
  return deepest;
}

describe('jsonLimitsProblem: depth', () => {
  it('takes 255 and 256 levels and refuses 257, for arrays, objects and both', () => {
    for (const mixed of [false, true]) {
      for (const levels of [255, MAX_BODY_DEPTH, MAX_BODY_DEPTH + 1]) {
        const expected = levels > MAX_BODY_DEPTH ? TOO_DEEP : null;
        // Around a scalar, and around an empty object (one level of its own).
        for (const text of [nested(levels, '1', mixed), nested(levels - 1, '{}', mixed)]) {
          expect(depthOf(text)).toBe(levels);
          expect(problem(text)).toBe(expected);
        }
      }
      expect(problem(nested(10_000, '1', mixed))).toBe(TOO_DEEP);
    }
  });

  it('counts levels, not brackets: siblings at one depth do not add up', () => {
    const wide = `[${Array.from({ length: 5000 }, () => nested(MAX_BODY_DEPTH - 1)).join(',')}]`;
    expect(problem(wide)).toBeNull();
    expect(problem(`${nested(MAX_BODY_DEPTH)} `)).toBeNull();
  });

  it('skips brackets inside strings, short or long', () => {
    const brackets = '['.repeat(1000) + '{'.repeat(1000);
    expect(problem(JSON.stringify({ a: brackets }))).toBeNull();
    expect(problem(JSON.stringify({ [brackets]: [brackets, { x: `${brackets}]]}}` }] }))).toBeNull();
    expect(problem(JSON.stringify([`short [`, '{', '[[[', nested(300)]))).toBeNull();
  });

  it('ends a string only at an unescaped quote, however many backslashes come before it', () => {
    for (const pad of ['', 'x'.repeat(100)]) {
      // Strings ending in escaped quotes and escaped backslashes, each followed by real nesting.
      for (const inner of [`${pad}"[[[`, `${pad}\\`, `${pad}\\\\`, `${pad}\\"\\`, `"${pad}`, `\\"${pad}[`]) {
        const text = JSON.stringify([inner, JSON.parse(nested(MAX_BODY_DEPTH - 1))]);
        expect(depthOf(text)).toBe(MAX_BODY_DEPTH);
        expect(problem(text)).toBeNull();
        const deeper = JSON.stringify([inner, JSON.parse(nested(MAX_BODY_DEPTH))]);
        expect(problem(deeper)).toBe(TOO_DEEP);
      }
    }
    // Brackets after an escaped quote are still in the string; after an escaped backslash, they are not.
    expect(problem(`["\\"${'['.repeat(300)}"]`)).toBeNull();
    expect(problem(`["${'x'.repeat(100)}\\"${'['.repeat(300)}"]`)).toBeNull();
    expect(problem(`["\\\\",${'['.repeat(300)}${']'.repeat(300)}]`)).toBe(TOO_DEEP);
    expect(problem(`["${'x'.repeat(100)}\\\\",${'['.repeat(300)}${']'.repeat(300)}]`)).toBe(TOO_DEEP);
    // \u escapes are not quotes or backslashes.
    expect(problem(`["\\u0022\\u005c", ${nested(MAX_BODY_DEPTH)}]`)).toBe(TOO_DEEP);
  });

  it('takes multi-byte UTF-8 in strings and keys as string content', () => {
    expect(problem(JSON.stringify({ 'clé 🎉': '[[[ é ] 漢字 "' }))).toBeNull();
  });

  it('has some answer, and no exception, for text that is not JSON (PostgreSQL refuses it)', () => {
    for (const text of ['', '"unterminated [[[', '"\\', ']]]]', '[[[', '{"a": 1e', '1e+', 'x'.repeat(200)]) {
      expect(() => problem(text)).not.toThrow();
    }
    expect(problem('"unterminated '.concat('['.repeat(1000)))).toBeNull();
  });
});

describe('jsonLimitsProblem: numbers', () => {
  it('takes every number JavaScript holds, written any way, with exponents down to -400', () => {
    const ok = [
      '0',
      '-0',
      '12.5',
      '1e308',
      '1.7976931348623157e308',
      '-1.7976931348623157E+308',
      '9'.repeat(308),
      '0.00001e310',
      '5e-324',
      '1e-400',
      '-1.5E-400',
      '1e-0000000400',
      `0.${'0'.repeat(1000)}1`,
      `1.${'5'.repeat(1000)}`,
    ];
    for (const number of ok) {
      expect(Number.isFinite(JSON.parse(number))).toBe(true);
      expect({ number, problem: problem(`{"n": ${number}}`) }).toEqual({ number, problem: null });
      expect({ number, problem: problem(`[1,${number}]`) }).toEqual({ number, problem: null });
    }
  });

  it('refuses numbers JavaScript reads as Infinity, and exponents past ±400 either way', () => {
    const refused = [
      '1e309',
      '1.8e308',
      '-1.8E+308',
      '1e400',
      '9'.repeat(309),
      `1${'0'.repeat(140_000)}`,
      '1e401',
      '1e-401',
      '-2.5E-401',
      '0e401',
      '1e00000401',
      '1e131071',
      `1e-${'9'.repeat(50)}`,
    ];
    for (const number of refused) {
      for (const body of [`{"n": ${number}}`, `[${number}]`, number]) {
        expect({ body: body.slice(0, 40), problem: problem(body) }).toEqual({
          body: body.slice(0, 40),
          problem: NUMBER_OUT_OF_RANGE,
        });
      }
    }
  });

  it('reads numbers only outside strings: true, false and string contents are not numbers', () => {
    expect(problem('[true, false, null, "1e999", {"1e999": "E999"}]')).toBeNull();
    expect(problem(`{"key${'9'.repeat(400)}": "${'x'.repeat(100)}1e999"}`)).toBeNull();
  });
});
