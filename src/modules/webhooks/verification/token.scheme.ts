import { createHash } from 'node:crypto';

import { AuthenticationError } from '../../../common/domain.error.js';
import { contentHashId } from './delivery-id.rules.js';
import { anyKeyMatches } from './hmac.compare.js';
import { headerNameOption, prefixOption, readOptions } from './scheme-options.parser.js';
import { checkSharedSecret, MAX_SHARED_SECRET_CHARS } from './shared-secret.rules.js';
import { deliveryIdHeader, requireHeader } from './signature-header.reader.js';
import { assertServerArguments } from './signature.limits.js';
import type {
  PreparedKey,
  SchemeOptions,
  SignedRequest,
  SigningInput,
  VerifiedDelivery,
  WebhookScheme,
} from './webhook-scheme.interface.js';

// Nothing is signed. Hashes are compared so lengths never leak and the clear token is not kept in memory.
export class TokenScheme implements WebhookScheme {
  readonly name = 'token';
  readonly generatesSecret = true;
  readonly usesTimestamp = false;

  validateOptions(raw: unknown): SchemeOptions {
    const options = readOptions(this.name, raw, ['tokenHeader', 'prefix', 'idHeader']);
    if (options.tokenHeader === undefined) {
      throw new Error('The token scheme needs tokenHeader: the header that carries the token');
    }
    const tokenHeader = headerNameOption(this.name, 'tokenHeader', options.tokenHeader);
    const prefix = prefixOption(this.name, options.prefix);
    if (options.idHeader === undefined) return { tokenHeader, prefix };
    const idHeader = headerNameOption(this.name, 'idHeader', options.idHeader);
    if (idHeader === tokenHeader) {
      throw new Error('idHeader of the token scheme must differ from tokenHeader');
    }
    return { tokenHeader, prefix, idHeader };
  }

  validateSecret(secret: string): void {
    checkSharedSecret(this.name, secret, { asciiOnly: true });
  }

  prepareKey(secret: string): PreparedKey {
    this.validateSecret(secret);
    return sha256(secret);
  }

  /** Nothing to sign: the token itself is what a sender proves it holds. */
  sign({ secret, deliveryId, options }: SigningInput): Record<string, string> {
    if (options?.tokenHeader === undefined) throw new TypeError('The token scheme needs its validated options');
    const headers: Record<string, string> = { [options.tokenHeader]: `${options.prefix ?? ''}${secret}` };
    if (options.idHeader !== undefined) headers[options.idHeader] = deliveryId;
    return headers;
  }

  verify(
    request: SignedRequest,
    keys: readonly PreparedKey[],
    toleranceSeconds: number,
    nowSeconds: number,
    options?: SchemeOptions,
  ): VerifiedDelivery {
    assertServerArguments(request, toleranceSeconds, nowSeconds);
    // Options come from validateOptions when the trigger was saved; without them this is a server fault.
    if (options?.tokenHeader === undefined) {
      throw new TypeError('The token scheme needs its validated options to verify');
    }
    const header = options.tokenHeader;
    const prefix = options.prefix ?? '';
    const value = requireHeader(request.headers, header, header);
    const deliveryId =
      options.idHeader === undefined
        ? undefined
        : deliveryIdHeader(request.headers, options.idHeader, options.idHeader);
    const token = value.startsWith(prefix) ? value.slice(prefix.length) : '';
    if (token === '' || token.length > MAX_SHARED_SECRET_CHARS) {
      const prefixed = prefix === '' ? '' : `"${prefix}" followed by `;
      throw new AuthenticationError('invalid_signature', `${header} must be ${prefixed}the token`);
    }
    if (!anyKeyMatches(keys, [sha256(token)], (key) => key)) {
      throw new AuthenticationError('invalid_signature', `${header} does not hold a valid token`);
    }
    return { deliveryId: deliveryId ?? contentHashId(request.rawBody), timestamp: null };
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
