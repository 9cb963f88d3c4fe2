import type { SchemeOptions } from './webhook-scheme.interface.js';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
// Node trims a header value's ends, so a prefix must not start with whitespace; it may end with one ("Bearer ").
const PREFIX = /^(?:[\x21-\x7e][\x20-\x7e]{0,31})?$/;
// Headers that proxies or Node itself own or rewrite: a signature, token or id cannot travel in them.
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-authorization',
  'cookie',
]);

export function noOptions(scheme: string, raw: unknown): SchemeOptions {
  readOptions(scheme, raw, []);
  return {};
}

export function readOptions(
  scheme: string,
  raw: unknown,
  allowed: readonly (keyof SchemeOptions)[],
): Partial<Record<keyof SchemeOptions, unknown>> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error(`Options of the ${scheme} scheme must be an object`);
  }
  const unknown = Object.keys(raw).filter((key) => !(allowed as readonly string[]).includes(key));
  if (unknown.length > 0) {
    const named = unknown
      .slice(0, 5)
      .map((key) => JSON.stringify(key.slice(0, 40)))
      .join(', ');
    const accepted = allowed.length > 0 ? `it accepts only ${allowed.join(', ')}` : 'it takes no options';
    throw new Error(`Unknown option ${named} for the ${scheme} scheme: ${accepted}`);
  }
  return raw;
}

export function headerNameOption(scheme: string, field: string, value: unknown): string {
  if (typeof value !== 'string' || !HEADER_NAME.test(value)) {
    throw new Error(`${field} of the ${scheme} scheme must be an HTTP header name of 1 to 64 characters`);
  }
  const name = value.toLowerCase();
  if (RESERVED_HEADERS.has(name)) {
    throw new Error(`${field} of the ${scheme} scheme cannot be ${name}: proxies and servers own that header`);
  }
  return name;
}

export function prefixOption(scheme: string, value: unknown): string {
  if (value === undefined) return '';
  if (typeof value !== 'string' || !PREFIX.test(value)) {
    throw new Error(
      `prefix of the ${scheme} scheme must be at most 32 printable ASCII characters, not starting with a space`,
    );
  }
  return value;
}
