import { describe, expect, it } from '@jest/globals';

import { InvalidInputError, UnsupportedMediaTypeError } from '../../common/domain.error.js';
import { webhookInputJson } from './webhook-body.parser.js';
import { NUMBER_OUT_OF_RANGE } from './webhook-json-limits.util.js';

const FORM = 'application/x-www-form-urlencoded';
const JSON_AS_FORM =
  'Body is JSON sent as a form (application/x-www-form-urlencoded): send it with Content-Type: application/json';

/** The error `webhookInputJson` throws, as code and message (or the input it returns). */
function outcome(contentType: string | undefined, body: Buffer | string): unknown {
  try {
    return { input: JSON.parse(webhookInputJson(contentType, Buffer.isBuffer(body) ? body : Buffer.from(body))) };
  } catch (error) {
    if (error instanceof InvalidInputError || error instanceof UnsupportedMediaTypeError) {
      return { code: error.code, message: error.message };
    }
    throw error;
  }
}

const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));

describe('webhookInputJson: JSON bodies', () => {
  it('passes a JSON body through as sent, with multi-byte UTF-8', () => {
    const text = '{"name": "Zoë 🎉",  "n": 1.50}';
    expect(webhookInputJson('application/json', Buffer.from(text))).toBe(text);
    expect(webhookInputJson('application/vnd.acme+json; charset=UTF-8', Buffer.from(text))).toBe(text);
  });

  it('refuses bytes that are not UTF-8 with invalid_json, under every JSON content type', () => {
    const notUtf8 = [
      bytes('{"a": "', [0xff], '"}'), // never valid
      bytes('{"a": "', [0xc3], '"}'), // a sequence cut short
      bytes('{"a": "', [0xc0, 0xaf], '"}'), // overlong "/"
      bytes('{"a": "', [0xed, 0xa0, 0x80], '"}'), // a UTF-16 surrogate
      bytes('{"a": "', [0xf4, 0x90, 0x80, 0x80], '"}'), // past U+10FFFF
      bytes('{"a": 1}', [0xe2, 0x82]), // cut short at the end
    ];
    for (const body of notUtf8) {
      for (const contentType of [
        'application/json',
        'application/json; charset=utf-8',
        'application/cloudevents+json',
      ]) {
        expect(outcome(contentType, body)).toEqual({ code: 'invalid_json', message: 'Body is not valid UTF-8' });
      }
    }
  });

  it('refuses nesting past 256 levels and huge exponents with invalid_json, and takes 256 levels', () => {
    const deep = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
    expect(outcome('application/json', deep(256))).toEqual({ input: JSON.parse(deep(256)) });
    expect(outcome('application/json', deep(257))).toEqual({
      code: 'invalid_json',
      message: 'Body is nested deeper than 256 levels',
    });
    expect(outcome('application/vnd.acme+json', `{"n": 1e131071}`)).toEqual({
      code: 'invalid_json',
      message: NUMBER_OUT_OF_RANGE,
    });
  });

  it('refuses other content types and charsets with 415', () => {
    expect(outcome('text/plain', '{}')).toEqual(expect.objectContaining({ code: 'unsupported_media_type' }));
    expect(outcome(undefined, '{}')).toEqual(expect.objectContaining({ code: 'unsupported_media_type' }));
    expect(outcome('application/json; charset=latin1', '{}')).toEqual(
      expect.objectContaining({ code: 'unsupported_media_type' }),
    );
  });
});

describe('webhookInputJson: form bodies', () => {
  it('makes an object of a real form, repeated fields as arrays, %-escapes and + decoded', () => {
    expect(outcome(FORM, 'name=Ada+Lovelace&tag=a&tag=b&city=Z%C3%BCrich&__proto__=x')).toEqual({
      input: { name: 'Ada Lovelace', tag: ['a', 'b'], city: 'Zürich', ['__proto__']: 'x' },
    });
    // Forms that merely look a little like JSON, or a lone field that is not JSON, are forms.
    expect(outcome(FORM, 'payload=%7B%22a%22%3A1%7D')).toEqual({ input: { payload: '{"a":1}' } });
    expect(outcome(FORM, 'json={"a":1}')).toEqual({ input: { json: '{"a":1}' } });
    expect(outcome(FORM, 'subscribe')).toEqual({ input: { subscribe: '' } });
    expect(outcome(FORM, '{"a":1')).toEqual({ input: { '{"a":1': '' } });
    expect(outcome(FORM, '{"a":1}=x')).toEqual({ input: { '{"a":1}': 'x' } });
    // A % without two hex digits stays as it is, as URLSearchParams keeps it.
    expect(outcome(FORM, 'discount=100%&code=%zz&end=%')).toEqual({
      input: { discount: '100%', code: '%zz', end: '%' },
    });
    expect(outcome(FORM, '')).toEqual({ input: {} });
  });

  it('refuses bytes that are not UTF-8, raw or %-encoded, with invalid_body', () => {
    const invalid = { code: 'invalid_body', message: 'Form body is not valid UTF-8 (raw or %-encoded)' };
    for (const body of [
      bytes('name=', [0xff]),
      bytes('name=', [0xc3]),
      'name=%FF',
      'name=%ff&other=1',
      'name=%C3',
      'name=%C0%AF',
      'name=%ED%A0%80',
      '%E2%82=x',
      // A sequence split by & is two broken ones, not one whole one.
      'a=%E2%82&%AC',
    ]) {
      expect(outcome(FORM, body)).toEqual(invalid);
    }
    expect(outcome(FORM, 'a=%E2%82%AC')).toEqual({ input: { a: '€' } });
  });

  it('refuses JSON sent as a form with invalid_body, saying to send Content-Type: application/json', () => {
    const refused = { code: 'invalid_body', message: JSON_AS_FORM };
    for (const body of [
      '{"a":1}', // curl -d '{"a":1}'
      ' [1, 2, {"b": null}]',
      '"hello"',
      '42',
      '{"url": "https://example.com/?a=b&c=d"}', // URLSearchParams makes two fields of it
      '{"sum": "1+1"}',
      '%7B%22a%22%3A1%7D', // curl --data-urlencode
      '%7B%22a%22%3A1%7D=',
    ]) {
      expect({ body, outcome: outcome(FORM, body) }).toEqual({ body, outcome: refused });
    }
    expect(outcome(`${FORM}; charset=utf-8`, '{"a":1}')).toEqual(refused);
  });
});
