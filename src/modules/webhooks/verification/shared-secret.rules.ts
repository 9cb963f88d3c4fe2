const MIN_SHARED_SECRET_CHARS = 16;
export const MAX_SHARED_SECRET_CHARS = 512;

/** Surrounding whitespace is almost always a copy-paste slip. Messages never quote the secret. */
export function checkSharedSecret(scheme: string, secret: string, rules: { asciiOnly?: boolean } = {}): void {
  if (typeof secret !== 'string') {
    throw new Error(`A ${scheme} secret must be a string`);
  }
  if (secret.length < MIN_SHARED_SECRET_CHARS || secret.length > MAX_SHARED_SECRET_CHARS) {
    throw new Error(
      `A ${scheme} secret must be ${MIN_SHARED_SECRET_CHARS} to ${MAX_SHARED_SECRET_CHARS} characters long`,
    );
  }
  if (hasControlCharacter(secret) || secret.trim() !== secret) {
    throw new Error(`A ${scheme} secret must not contain control characters or start or end with whitespace`);
  }
  if (rules.asciiOnly && !/^[\x20-\x7e]+$/.test(secret)) {
    throw new Error(`A ${scheme} secret must be printable ASCII: it is sent in an HTTP header`);
  }
}

export function utf8Key(secret: string): Buffer {
  return Buffer.from(secret, 'utf8');
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
