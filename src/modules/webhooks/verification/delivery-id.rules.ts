import { createHash } from 'node:crypto';

// Ids are stored and logged for deduplication, so only short, printable ones are accepted.
const DELIVERY_ID = /^[\x21-\x7e]{1,256}$/;

export function isDeliveryId(value: string): boolean {
  return DELIVERY_ID.test(value);
}

/** A delivery id for senders that give none: the same signed content always gives the same id. */
export function contentHashId(...parts: readonly (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    if (typeof part === 'string') hash.update(part, 'utf8');
    else hash.update(part);
  }
  return `sha256:${hash.digest('hex')}`;
}

/** Only once the signature has verified: parsing is the costliest step and must not be offered to strangers. */
export function jsonStringField(rawBody: Buffer, field: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.hasOwn(parsed, field)) {
    return undefined;
  }
  const value = (parsed as Record<string, unknown>)[field];
  return typeof value === 'string' && isDeliveryId(value) ? value : undefined;
}
