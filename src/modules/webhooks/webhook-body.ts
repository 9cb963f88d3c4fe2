import { UnsupportedMediaTypeError } from '../../common/errors.js';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/;
const FORM_TYPE = 'application/x-www-form-urlencoded';

/**
 * A verified body as the run's input, in JSON text. JSON bodies go to PostgreSQL as received: its
 * `jsonb` input is the one parse they get, and what it refuses becomes 400 `invalid_json` (see
 * `RunsRepository.insertWebhookRun`), with nothing written. Form bodies become an object of their
 * fields (repeated fields become arrays).
 */
export function webhookInputJson(contentType: string | undefined, rawBody: Buffer): string {
  // The common case, decided without splitting the header.
  if (contentType === 'application/json') return rawBody.toString('utf8');
  const [mediaType, ...params] = (contentType ?? '').split(';').map((part) => part.trim().toLowerCase());
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
    throw new UnsupportedMediaTypeError(`Charset ${charset} is not accepted: send UTF-8`);
  }
  if (JSON_TYPE.test(mediaType)) return rawBody.toString('utf8');
  if (mediaType === FORM_TYPE) return JSON.stringify(formFields(rawBody.toString('utf8')));
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
