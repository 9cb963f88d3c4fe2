const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX = /^[0-9a-fA-F]*$/;

/** Padded standard base64, and only its canonical spelling, so each byte string has exactly one accepted form. */
export function decodeStrictBase64(value: string): Buffer | null {
  if (value === '' || !STRICT_BASE64.test(value)) {
    return null;
  }
  const decoded = Buffer.from(value, 'base64');
  // Rejects non-zero padding bits, which Buffer.from would silently ignore.
  return decoded.toString('base64') === value ? decoded : null;
}

/** Exactly `bytes` bytes of hex; either case, since both spell the same bytes and senders differ. */
export function decodeHex(value: string, bytes: number): Buffer | null {
  // Length first: Buffer.from(hex) stops quietly at the first bad pair, and the regex should not scan huge input.
  return value.length === bytes * 2 && HEX.test(value) ? Buffer.from(value, 'hex') : null;
}
