import { describe, expect, it } from '@jest/globals';

import { StepFailure } from './step-failure.error.js';
import { redactionMark, SecretRedactor } from './secret.redactor.js';

const TOKEN = 'sk_live_4f9a"c/2 b';

describe('SecretRedactor', () => {
  const redactor = new SecretRedactor([
    ['TOKEN', TOKEN],
    ['SHORT', 'abc'],
  ]);

  it('replaces every occurrence, as sent, percent-encoded or JSON-escaped', () => {
    expect(redactionMark('TOKEN')).toBe('[redacted:TOKEN]');
    expect(redactor.text(`a ${TOKEN} b ${TOKEN}`)).toBe('a [redacted:TOKEN] b [redacted:TOKEN]');
    expect(redactor.text(`?k=${encodeURIComponent(TOKEN)}`)).toBe('?k=[redacted:TOKEN]');
    expect(redactor.text(JSON.stringify({ k: TOKEN }))).toBe('{"k":"[redacted:TOKEN]"}');
    expect(redactor.text('xabcx')).toBe('x[redacted:SHORT]x');
    expect(redactor.text('nothing here')).toBe('nothing here');
  });

  it('replaces the longer of two values that overlap whole', () => {
    const nested = new SecretRedactor([
      ['PART', 'secret'],
      ['WHOLE', 'my-secret-value'],
    ]);
    expect(nested.text('my-secret-value and secret')).toBe('[redacted:WHOLE] and [redacted:PART]');
  });

  it('treats values as text, not as patterns', () => {
    const special = new SecretRedactor([['RE', 'a.c*(']]);
    expect(special.text('abc a.c*(')).toBe('abc [redacted:RE]');
  });

  it('redacts strings and keys of JSON values, deep, and leaves the input as it was', () => {
    const response = {
      status: 200,
      headers: { 'x-echo': `Bearer ${TOKEN}` },
      body: { [TOKEN]: [TOKEN, 1, null, true, { nested: `-${TOKEN}-` }] },
    };
    const copy = structuredClone(response);
    expect(redactor.value(response)).toEqual({
      status: 200,
      headers: { 'x-echo': 'Bearer [redacted:TOKEN]' },
      body: { '[redacted:TOKEN]': ['[redacted:TOKEN]', 1, null, true, { nested: '-[redacted:TOKEN]-' }] },
    });
    expect(response).toEqual(copy);
  });

  it('keeps a "__proto__" key as data', () => {
    const value = redactor.value(JSON.parse('{"__proto__": {"polluted": "abc"}}') as object);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__']);
  });

  it('redacts an error in place: message and stack, class and code kept', () => {
    const error = new StepFailure('http_error', `could not resolve "${TOKEN}"`, true);
    expect(redactor.error(error)).toBe(error);
    expect(error).toBeInstanceOf(StepFailure);
    expect(error).toMatchObject({ code: 'http_error', retryable: true });
    expect(error.message).toBe('could not resolve "[redacted:TOKEN]"');
    expect(error.stack).not.toContain(TOKEN);
    expect(redactor.error('not an error')).toBe('not an error');
  });

  it('adds derived values (a header computed from a secret) under its mark, long ones only', () => {
    const basic = Buffer.from(`user:${TOKEN}`).toString('base64');
    const withDerived = redactor.with([
      ['TOKEN', `Basic ${basic}`],
      ['TOKEN', 'yes'],
    ]);
    expect(withDerived.text(`echo: Basic ${basic}; yes`)).toBe('echo: [redacted:TOKEN]; yes');
    expect(redactor.text(`Basic ${basic}`)).toBe(`Basic ${basic}`);
  });

  it('does nothing without values, and ignores empty ones', () => {
    const none = new SecretRedactor([['EMPTY', '']]);
    expect(none.empty).toBe(true);
    expect(none.text('anything')).toBe('anything');
    const value = { a: 'b' };
    expect(none.value(value)).toBe(value);
    expect(none.finds('anything')).toBe(false);
    expect(redactor.finds(`x${TOKEN}`)).toBe(true);
    expect(redactor.finds('x')).toBe(false);
  });
});
