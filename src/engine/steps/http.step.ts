import type { StepBase } from '../definition.types.js';
import { DefinitionError } from '../definition.error.js';
import { compiles, integerIn, isObject, optional, rejectUnknownKeys } from '../definition-fields.util.js';
import { parseTemplate } from '../template.parser.js';
import type { StepHandler } from './step-handler.interface.js';

const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];
const MAX_HTTP_HEADERS = 50;
const MAX_OK_STATUSES = 50;
/** Headers hookrun sets itself, or that would change how the message is framed on the wire. */
const RESERVED_HTTP_HEADERS: readonly string[] = [
  'idempotency-key',
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'te',
  'trailer',
  'expect',
];
const HTTP_HEADER_NAME_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_KEYS = ['method', 'url', 'headers', 'body'];
/** What Node refuses in a header value: control characters (line breaks above all) and beyond Latin-1. */
const INVALID_HEADER_TEXT = /[^\t\x20-\x7e\x80-\xff]/;

export interface HttpRequestDefinition {
  method: HttpMethod;
  /** A template (`{{ expr }}`); values are inserted as they are, `$encodeUrlComponent` escapes them. */
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpStep extends StepBase {
  type: 'http';
  request: HttpRequestDefinition;
  okStatuses?: number[];
}

export const httpStep: StepHandler<HttpStep> = {
  type: 'http',
  noun: 'an http step',
  keys: ['request', 'okStatuses'],
  sideEffects: true,
  parse(raw, id, label) {
    const step: HttpStep = { id, type: 'http', request: validateRequest(raw.request, label) };
    const okStatuses = optional(raw.okStatuses);
    if (okStatuses !== undefined) step.okStatuses = validateOkStatuses(okStatuses, label);
    return step;
  },
  run: { kind: 'attempts', execute: (step, env) => env.http.execute(step, env) },
};

function validateRequest(raw: unknown, label: string): HttpRequestDefinition {
  if (raw === undefined || raw === null) throw new DefinitionError(`${label}: missing request`);
  if (!isObject(raw)) {
    throw new DefinitionError(`${label}: request must be an object { method, url, headers?, body? }`);
  }
  rejectUnknownKeys(raw, REQUEST_KEYS, `${label}: request`);

  const method = raw.method;
  if (method === undefined || method === null) throw new DefinitionError(`${label}: missing request.method`);
  if (typeof method !== 'string' || !(HTTP_METHODS as readonly string[]).includes(method)) {
    throw new DefinitionError(
      `${label}: request.method must be one of ${HTTP_METHODS.join(', ')}, got ${JSON.stringify(method)}`,
    );
  }
  const request: HttpRequestDefinition = { method: method as HttpMethod, url: validateUrl(raw.url, label) };

  const headers = optional(raw.headers);
  if (headers !== undefined) request.headers = validateHeaders(headers, label);
  const body = optional(raw.body);
  if (body !== undefined) {
    if (typeof body !== 'string')
      throw new DefinitionError(`${label}: request.body must be a string (a JSONata expression)`);
    if (request.method === 'GET' || request.method === 'HEAD') {
      throw new DefinitionError(`${label}: request.body is not allowed with ${request.method}`);
    }
    compiles(body, `${label}: request.body`);
    request.body = body;
  }
  return request;
}

/** A template is checked as far as its fixed text goes: the scheme when it starts the URL, all of it when static. */
function validateUrl(url: unknown, label: string): string {
  const what = `${label}: request.url`;
  if (url === undefined || url === null) throw new DefinitionError(`${label}: missing request.url`);
  if (typeof url !== 'string') throw new DefinitionError(`${what} must be a string`);
  if (url.trim() === '') throw new DefinitionError(`${what} must not be empty`);
  compiles(url, what, true);
  const parts = parseTemplate(url);
  const [first] = parts;
  const leading = 'text' in first ? first.text : '';
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(leading)?.[1].toLowerCase();
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') {
    throw new DefinitionError(`${what} must use http: or https:, not "${scheme}:"`);
  }
  if (parts.length === 1 && 'text' in first) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new DefinitionError(`${what} is not a valid absolute URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new DefinitionError(`${what} must use http: or https:, not ${JSON.stringify(parsed.protocol)}`);
    }
    if (parsed.username !== '' || parsed.password !== '') {
      throw new DefinitionError(`${what} must not contain credentials (user:password@); send them in a header`);
    }
  }
  return url;
}

function validateHeaders(raw: unknown, label: string): Record<string, string> {
  if (!isObject(raw))
    throw new DefinitionError(`${label}: request.headers must be an object of header names to strings`);
  const entries = Object.entries(raw);
  if (entries.length > MAX_HTTP_HEADERS) {
    throw new DefinitionError(
      `${label}: request.headers: at most ${MAX_HTTP_HEADERS} headers are allowed, got ${entries.length}`,
    );
  }
  const seen = new Map<string, string>();
  for (const [name, value] of entries) {
    const what = `${label}: request.headers[${JSON.stringify(name)}]`;
    if (!HTTP_HEADER_NAME_PATTERN.test(name)) {
      throw new DefinitionError(`${label}: request.headers: ${JSON.stringify(name)} is not a valid header name`);
    }
    const lower = name.toLowerCase();
    if (RESERVED_HTTP_HEADERS.includes(lower)) {
      throw new DefinitionError(`${label}: request.headers: ${JSON.stringify(name)} is set by hookrun, not by a step`);
    }
    const earlier = seen.get(lower);
    if (earlier !== undefined) {
      throw new DefinitionError(
        `${label}: request.headers: ${JSON.stringify(name)} and ${JSON.stringify(earlier)} are the same header (names are case-insensitive)`,
      );
    }
    seen.set(lower, name);
    if (typeof value !== 'string') throw new DefinitionError(`${what} must be a string`);
    compiles(value, what, true);
    for (const part of parseTemplate(value)) {
      if ('text' in part && INVALID_HEADER_TEXT.test(part.text)) {
        throw new DefinitionError(
          `${what} has a character that HTTP does not allow (a line break, a control character or one beyond Latin-1)`,
        );
      }
    }
  }
  // fromEntries defines keys as data: a header named "__proto__" must not become the copy's prototype.
  return Object.fromEntries(entries as [string, string][]);
}

function validateOkStatuses(raw: unknown, label: string): number[] {
  if (!Array.isArray(raw)) throw new DefinitionError(`${label}: okStatuses must be an array of HTTP status codes`);
  if (raw.length > MAX_OK_STATUSES) {
    throw new DefinitionError(
      `${label}: okStatuses: at most ${MAX_OK_STATUSES} status codes are allowed, got ${raw.length}`,
    );
  }
  const statuses: number[] = [];
  raw.forEach((status: unknown, index) => {
    const value = integerIn(status, 100, 599, `${label}: okStatuses[${index}]`);
    if (statuses.includes(value)) throw new DefinitionError(`${label}: okStatuses: ${value} is listed twice`);
    statuses.push(value);
  });
  return statuses;
}
