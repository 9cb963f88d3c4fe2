import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/;

export function mediaTypeOf(contentType: string | undefined): string {
  if (contentType === undefined) return '';
  const semicolon = contentType.indexOf(';');
  return (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

export function isJsonMediaType(mediaType: string): boolean {
  return JSON_MEDIA_TYPE.test(mediaType);
}

/** `Content-Length: 0` is no body, unlike type-is's `hasBody`: clients send it on a bare POST. */
export function carriesBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export const INVALID_UTF8_BODY = 'entity.utf8.invalid';

/** Decoding would replace bad bytes with U+FFFD: the API would act on an input nobody sent. */
export function refuseInvalidUtf8(_req: IncomingMessage, _res: unknown, body: Buffer): void {
  if (!isUtf8(body)) {
    throw Object.assign(new Error('Body is not valid UTF-8'), { status: 400, type: INVALID_UTF8_BODY });
  }
}
