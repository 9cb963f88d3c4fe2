import { MAX_BODY_DEPTH } from '../../common/validation.pipe.js';

// PostgreSQL writes out every digit of `1e131071` on each read; ±400 covers every JavaScript number.
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

// Not a JSON validator (PostgreSQL is): refuses what a worker could not handle, deep nesting or out-of-range numbers.
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
