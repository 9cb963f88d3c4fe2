import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { pipeline, type Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

import type { HttpMethod } from '../steps/http.step.js';
import { StepFailure } from '../step-failure.error.js';
import type { VettedTarget } from './ssrf.guard.js';

export interface OutgoingRequest {
  method: HttpMethod;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface HttpResponse {
  status: number;
  /** Lower-case names; repeated fields joined with ", " (`set-cookie` included). */
  headers: Record<string, string>;
  body: unknown;
}

export interface SendOptions {
  signal: AbortSignal;
  maxResponseBytes: number;
}

const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9!#$&^_.+-]*\+)?json$/;

/** To the vetted address, never to what the name resolves to now; the name is kept for `Host`, SNI and TLS checks. */
export async function sendRequest(
  target: VettedTarget,
  request: OutgoingRequest,
  options: SendOptions,
): Promise<HttpResponse> {
  const { url } = target;
  const describe = `${request.method} ${url.host}`;
  const fail = (err: unknown): StepFailure => {
    const reason: unknown = options.signal.reason;
    if (options.signal.aborted && reason instanceof StepFailure) return reason;
    if (err instanceof StepFailure) return err;
    const code = (err as { code?: unknown }).code;
    const why = typeof code === 'string' ? code : err instanceof Error ? err.message : 'unknown error';
    return new StepFailure('http_error', `${describe} failed: ${why}`, true);
  };

  let response: IncomingMessage;
  try {
    response = await new Promise<IncomingMessage>((resolve, reject) => {
      const transport = url.protocol === 'https:' ? https : http;
      const req = transport.request({
        protocol: url.protocol,
        host: target.address,
        family: target.family,
        port: url.port === '' ? undefined : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method: request.method,
        headers: { ...request.headers, host: url.host },
        // SNI must be a name, never an IP address (RFC 6066).
        servername: isIP(target.hostname) === 0 ? target.hostname : undefined,
        // A pooled socket could outlive the check that let it connect; one connection per attempt.
        agent: false,
        signal: options.signal,
      });
      req.on('response', resolve);
      // Stays attached: an error after the response (a reset while reading) must not be unhandled.
      req.on('error', reject);
      req.end(request.body);
    });
  } catch (err) {
    throw fail(err);
  }

  const headers = headersOf(response);
  const status = response.statusCode ?? 0;
  let bytes: Buffer;
  try {
    const declared = Number(headers['content-length']);
    if (Number.isFinite(declared) && declared > options.maxResponseBytes) {
      throw tooLarge(describe, options.maxResponseBytes);
    }
    bytes = await readBody(decoded(response, headers['content-encoding'], describe), options.maxResponseBytes, () =>
      tooLarge(describe, options.maxResponseBytes),
    );
  } catch (err) {
    response.destroy();
    throw fail(err);
  }
  return { status, headers, body: parseBody(bytes, headers['content-type']) };
}

/** Built from the raw lines: Node drops repeats of some fields, and a field named `__proto__` must stay data. */
function headersOf(response: IncomingMessage): Record<string, string> {
  const fields = new Map<string, string>();
  const raw = response.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const earlier = fields.get(name);
    fields.set(name, earlier === undefined ? raw[i + 1] : `${earlier}, ${raw[i + 1]}`);
  }
  return Object.fromEntries(fields);
}

/** The body with its content coding removed: the size limit applies to what is decoded, so a zip bomb stops early. */
function decoded(response: IncomingMessage, contentEncoding: string | undefined, describe: string): Readable {
  const coding = (contentEncoding ?? '').trim().toLowerCase();
  switch (coding) {
    case '':
    case 'identity':
      return response;
    case 'gzip':
    case 'x-gzip':
      return pipeline(response, createGunzip(), () => {});
    case 'deflate':
      return pipeline(response, createInflate(), () => {});
    case 'br':
      return pipeline(response, createBrotliDecompress(), () => {});
    default:
      throw new StepFailure(
        'http_error',
        `${describe} answered with content encoding "${coding}", which is not supported`,
      );
  }
}

async function readBody(stream: Readable, maxBytes: number, tooLargeError: () => StepFailure): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      stream.destroy();
      throw tooLargeError();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function parseBody(bytes: Buffer, contentType: string | undefined): unknown {
  if (bytes.length === 0) return null;
  const [mediaType, ...parameters] = (contentType ?? '').split(';').map((part) => part.trim());
  const charset = parameters
    .map((parameter) => /^charset\s*=\s*"?([^";]+)"?$/i.exec(parameter)?.[1])
    .find((value) => value !== undefined);
  const text = decodeText(bytes, charset);
  if (JSON_MEDIA_TYPE.test(mediaType.toLowerCase())) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // A body that claims to be JSON and is not is still worth showing as it came.
    }
  }
  return text;
}

function decodeText(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

function tooLarge(describe: string, maxBytes: number): StepFailure {
  return new StepFailure('http_response_too_large', `${describe} answered with a body larger than ${maxBytes} bytes`);
}
