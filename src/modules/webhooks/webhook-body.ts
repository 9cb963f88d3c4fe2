import { InvalidInputError, UnsupportedMediaTypeError } from '../../common/errors.js';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/;
const FORM_TYPE = 'application/x-www-form-urlencoded';

/**
 * A verified body as the run's input, in JSON text. JSON bodies are checked with one parse and then
 * stored as received; form bodies become an object of their fields (repeated fields become arrays).
 */
export function webhookInputJson(contentType: string | undefined, rawBody: Buffer): string {
  const [mediaType, ...params] = (contentType ?? '').split(';').map((part) => part.trim().toLowerCase());
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
    throw new UnsupportedMediaTypeError(`Charset ${charset} is not accepted: send UTF-8`);
  }
  const text = rawBody.toString('utf8');
  if (JSON_TYPE.test(mediaType)) {
    try {
      JSON.parse(text);
    } catch {
      throw new InvalidInputError('invalid_json', 'Body is not valid JSON');
    }
    return text;
  }
  if (mediaType === FORM_TYPE) return JSON.stringify(formFields(text));
  throw new UnsupportedMediaTypeError(
    `Content type ${mediaType.slice(0, 100) || '(none)'} is not accepted: send application/json or application/x-www-form-urlencoded`,
  );
}

function formFields(text: string): Record<string, string | string[]> {
  // No prototype: a field named __proto__ is data like any other.
  const fields: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of new URLSearchParams(text)) {
    const existing = fields[name];
    if (existing === undefined) fields[name] = value;
    else fields[name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return fields;
}
