import { MAX_BODY_DEPTH } from '../../common/validation.pipe.js';

/**
 * Number exponents beyond this are refused, both ways. PostgreSQL keeps `1e131071` in a few bytes but
 * writes it out in full, 131,072 digits, each time the worker reads the input: a 9 KB body became 131 MB
 * and 14 s of database time, a 1 MiB one more than PostgreSQL can send. At ±400 a body grows at most ~70
 * times, and a JavaScript number (5e-324 to 1.8e308) never needs more.
 */
const MAX_NUMBER_EXPONENT = 400;

export const NUMBER_OUT_OF_RANGE =
  `Body holds a number out of range: JavaScript numbers reach ±1.8e308, ` +
  `and an exponent may not pass ±${MAX_NUMBER_EXPONENT}`;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const DOT = 0x2e;
const LOWER_E = 0x65;
const ZERO = 0x30;
const NINE = 0x39;
const PLUS = 0x2b;
const MINUS = 0x2d;

/**
 * What a JSON webhook body would do to a worker that PostgreSQL's `jsonb` input lets through, or null:
 * nesting deeper than the `/v1` limit (a 10,000-deep body overflowed the worker's stack), a number the
 * worker would read as Infinity (JSONata refuses it, JSON.stringify makes it null), or one that PostgreSQL
 * writes out at many times its size. One pass over the bytes, skipping string contents; it does not
 * validate JSON (PostgreSQL does), so for text that is not JSON its answer only has to be some refusal or none.
 */
export function jsonLimitsProblem(body: Buffer): string | null {
  let depth = 0;
  const length = body.length;
  for (let i = 0; i < length; i++) {
    const byte = body[i];
    if (byte === QUOTE) {
      i = closingQuote(body, i);
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      if (++depth > MAX_BODY_DEPTH) return `Body is nested deeper than ${MAX_BODY_DEPTH} levels`;
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      depth--;
    } else if (byte === MINUS || isDigit(byte)) {
      const end = endOfNumber(body, i);
      if (end < 0) return NUMBER_OUT_OF_RANGE;
      i = end - 1;
    }
  }
  return null;
}

/**
 * The index of the quote that ends the string opened at `open`. Short strings (keys, most values) are
 * walked byte by byte; past the first bytes, `indexOf` jumps from quote to quote, and a quote ends the
 * string when an even run of backslashes precedes it.
 */
function closingQuote(body: Buffer, open: number): number {
  const walkedTo = Math.min(body.length, open + 64);
  let i = open + 1;
  for (; i < walkedTo; i++) {
    const byte = body[i];
    if (byte === BACKSLASH) i++;
    else if (byte === QUOTE) return i;
  }
  for (let quote = body.indexOf(QUOTE, i); quote >= 0; quote = body.indexOf(QUOTE, quote + 1)) {
    let backslashes = 0;
    while (body[quote - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
  }
  return body.length;
}

/** The index just past the number that starts at `start`, or -1 when the number is out of range. */
function endOfNumber(body: Buffer, start: number): number {
  const length = body.length;
  let i = body[start] === MINUS ? start + 1 : start;
  const integerFrom = i;
  while (i < length && isDigit(body[i])) i++;
  const integerDigits = i - integerFrom;
  if (body[i] === DOT) {
    i++;
    while (i < length && isDigit(body[i])) i++;
  }
  let exponent = 0;
  if (i < length && (body[i] | 0x20) === LOWER_E) {
    i++;
    const negative = body[i] === MINUS;
    if (negative || body[i] === PLUS) i++;
    for (; i < length && isDigit(body[i]); i++) {
      // Leading zeros add nothing; past the limit, the rest of the digits do not matter.
      if (exponent <= MAX_NUMBER_EXPONENT) exponent = exponent * 10 + body[i] - ZERO;
    }
    if (exponent > MAX_NUMBER_EXPONENT) return -1;
    if (negative) exponent = -exponent;
  }
  // Only a number this long or with this exponent can pass a double's range: JavaScript says whether it does.
  if (integerDigits + exponent > 300 && !Number.isFinite(Number(body.toString('latin1', start, i)))) return -1;
  return i;
}

function isDigit(byte: number): boolean {
  return byte >= ZERO && byte <= NINE;
}
