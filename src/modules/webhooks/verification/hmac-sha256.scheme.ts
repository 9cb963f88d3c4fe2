import { signBodyHmac, verifyBodyHmac, type BodyHmacRule } from './body-hmac.verifier.js';
import { headerNameOption, prefixOption, readOptions } from './scheme-options.parser.js';
import { checkSharedSecret, utf8Key } from './shared-secret.rules.js';
import { assertServerArguments } from './signature.limits.js';
import type {
  PreparedKey,
  SchemeOptions,
  SignedRequest,
  SigningInput,
  VerifiedDelivery,
  WebhookScheme,
} from './webhook-scheme.interface.js';

/** A configurable body HMAC: no timestamp, so deduplication (on `idHeader`, else the body's hash) is the replay rule. */
export class HmacSha256Scheme implements WebhookScheme {
  readonly name = 'hmac-sha256';
  readonly generatesSecret = true;
  readonly usesTimestamp = false;

  validateOptions(raw: unknown): SchemeOptions {
    const options = readOptions(this.name, raw, ['signatureHeader', 'encoding', 'prefix', 'idHeader']);
    if (options.signatureHeader === undefined) {
      throw new Error('The hmac-sha256 scheme needs signatureHeader: the header that carries the signature');
    }
    const signatureHeader = headerNameOption(this.name, 'signatureHeader', options.signatureHeader);
    const encoding = options.encoding ?? 'hex';
    if (encoding !== 'hex' && encoding !== 'base64') {
      throw new Error('encoding of the hmac-sha256 scheme must be "hex" or "base64"');
    }
    const prefix = prefixOption(this.name, options.prefix);
    if (options.idHeader === undefined) return { signatureHeader, encoding, prefix };
    const idHeader = headerNameOption(this.name, 'idHeader', options.idHeader);
    if (idHeader === signatureHeader) {
      throw new Error('idHeader of the hmac-sha256 scheme must differ from signatureHeader');
    }
    return { signatureHeader, encoding, prefix, idHeader };
  }

  validateSecret(secret: string): void {
    checkSharedSecret(this.name, secret);
  }

  prepareKey(secret: string): PreparedKey {
    this.validateSecret(secret);
    return utf8Key(secret);
  }

  verify(
    request: SignedRequest,
    keys: readonly PreparedKey[],
    toleranceSeconds: number,
    nowSeconds: number,
    options?: SchemeOptions,
  ): VerifiedDelivery {
    assertServerArguments(request, toleranceSeconds, nowSeconds);
    return verifyBodyHmac(request, keys, ruleOf(options));
  }

  sign(input: SigningInput): Record<string, string> {
    return signBodyHmac(input, ruleOf(input.options));
  }
}

// Options come from validateOptions when the trigger was saved; without them this is a server fault.
function ruleOf(options: SchemeOptions | undefined): BodyHmacRule {
  if (options?.signatureHeader === undefined) {
    throw new TypeError('The hmac-sha256 scheme needs its validated options');
  }
  return {
    signatureHeader: options.signatureHeader,
    signatureLabel: options.signatureHeader,
    prefix: options.prefix ?? '',
    encoding: options.encoding ?? 'hex',
    idHeader: options.idHeader,
  };
}
