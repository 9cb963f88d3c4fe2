import { isUtf8 } from 'node:buffer';

import { InvalidInputError, UnsupportedMediaTypeError } from '../../common/domain.error.js';
import { isJsonMediaType } from '../../common/request-body.util.js';
import { jsonLimitsProblem } from './webhook-json-limits.util.js';

const FORM_TYPE = 'application/x-www-form-urlencoded';
const PERCENT = 0x25;

// JSON goes to PostgreSQL unparsed (`jsonb` is its one parse): only what `jsonb` would alter or a worker could not handle is refused.
export function webhookInputJson(contentType: string | undefined, rawBody: Buffer): string {
  if (contentType === 'application/json') return checkedJson(rawBody);
  const [mediaType, ...params] = (contentType ?? '').split(';').map((part) => part.trim().toLowerCase());
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
    throw new UnsupportedMediaTypeError(`Charset ${charset} is not accepted: send UTF-8`);
  }
  if (isJsonMediaType(mediaType)) return checkedJson(rawBody);
  if (mediaType === FORM_TYPE) return JSON.stringify(formFields(rawBody));
  throw new UnsupportedMediaTypeError(
    `Content type ${mediaType.slice(0, 100) || '(none)'} is not accepted: send application/json or application/x-www-form-urlencoded`,
  );
}

function checkedJson(rawBody: Buffer): string {
  // Decoding would turn each bad byte into U+FFFD: an input nobody sent.
  if (!isUtf8(rawBody)) throw new InvalidInputError('invalid_json', 'Body is not valid UTF-8');
  const problem = jsonLimitsProblem(rawBody);
  if (problem !== null) throw new InvalidInputError('invalid_json', problem);
  return rawBody.toString('utf8');
}

function formFields(rawBody: Buffer): Record<string, string | string[]> {
  // URLSearchParams decodes bytes (raw or %-escaped) that are not UTF-8 as U+FFFD, without a word.
  if (!isUtf8(rawBody) || !isUtf8(percentDecoded(rawBody))) {
    throw new InvalidInputError('invalid_body', 'Form body is not valid UTF-8 (raw or %-encoded)');
  }
  const text = rawBody.toString('utf8');
  // No prototype: a field named __proto__ is data like any other.
  const fields: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  let count = 0;
  for (const [name, value] of new URLSearchParams(text)) {
    const existing = fields[name];
    count++;
    if (existing === undefined) fields[name] = value;
    else fields[name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  // `curl -d '{"a":1}'` sends JSON as a form: as fields it would be `{ "{\"a\":1}": "" }`.
  const single = count === 1 ? Object.keys(fields)[0] : undefined;
  if (isJsonObjectText(text) || (single !== undefined && fields[single] === '' && isJsonText(single))) {
    throw new InvalidInputError(
      'invalid_body',
      'Body is JSON sent as a form (application/x-www-form-urlencoded): send it with Content-Type: application/json',
    );
  }
  return fields;
}

function percentDecoded(rawBody: Buffer): Buffer {
  if (rawBody.indexOf(PERCENT) < 0) return rawBody;
  const decoded = Buffer.allocUnsafe(rawBody.length);
  let length = 0;
  for (let i = 0; i < rawBody.length; i++) {
    const byte = rawBody[i];
    const escaped = byte === PERCENT ? hexByte(rawBody, i + 1) : -1;
    if (escaped < 0) {
      decoded[length++] = byte;
    } else {
      decoded[length++] = escaped;
      i += 2;
    }
  }
  return decoded.subarray(0, length);
}

function hexByte(bytes: Buffer, at: number): number {
  if (at + 1 >= bytes.length) return -1;
  const high = hexDigit(bytes[at]);
  const low = hexDigit(bytes[at + 1]);
  return high < 0 || low < 0 ? -1 : high * 16 + low;
}

function hexDigit(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

// No real form is a JSON object or array; JSON holding `&` or `=` is split into several fields.
function isJsonObjectText(text: string): boolean {
  const start = text.trimStart()[0];
  return (start === '{' || start === '[') && isJsonText(text);
}

function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
