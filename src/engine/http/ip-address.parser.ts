import { isIPv4, isIPv6 } from 'node:net';

export type AddressRestriction =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'carrier-grade-nat'
  | 'unique-local'
  | 'multicast'
  | 'broadcast'
  | 'documentation'
  | 'benchmarking'
  | 'reserved'
  | 'invalid';

type Range = readonly [bytes: readonly number[], prefix: number, restriction: AddressRestriction];

// Order matters only where ranges nest: 255.255.255.255 before 240/4.
const IPV4_RANGES: readonly Range[] = [
  [[0, 0, 0, 0], 8, 'unspecified'],
  [[10, 0, 0, 0], 8, 'private'],
  [[100, 64, 0, 0], 10, 'carrier-grade-nat'],
  [[127, 0, 0, 0], 8, 'loopback'],
  [[169, 254, 0, 0], 16, 'link-local'],
  [[172, 16, 0, 0], 12, 'private'],
  [[192, 0, 0, 0], 24, 'reserved'],
  [[192, 0, 2, 0], 24, 'documentation'],
  [[192, 88, 99, 0], 24, 'reserved'],
  [[192, 168, 0, 0], 16, 'private'],
  [[198, 18, 0, 0], 15, 'benchmarking'],
  [[198, 51, 100, 0], 24, 'documentation'],
  [[203, 0, 113, 0], 24, 'documentation'],
  [[224, 0, 0, 0], 4, 'multicast'],
  [[255, 255, 255, 255], 32, 'broadcast'],
  [[240, 0, 0, 0], 4, 'reserved'],
];

/** Special ranges inside 2000::/3, the only IPv6 block with public unicast addresses. */
const IPV6_GLOBAL_EXCEPTIONS: readonly Range[] = [
  // IETF protocol assignments: Teredo (2001::/32, whose endpoint cannot be vetted), ORCHID, benchmarking, ...
  [[0x20, 0x01, 0x00, 0x00], 23, 'reserved'],
  [[0x20, 0x01, 0x0d, 0xb8], 32, 'documentation'],
  [[0x3f, 0xff, 0x00], 20, 'documentation'],
];

/** Null for a public unicast address. A form not understood is `invalid`: refused rather than let through. */
export function addressRestriction(address: string): AddressRestriction | null {
  const v4 = parseIPv4(address);
  if (v4) return ipv4Restriction(v4);
  const v6 = parseIPv6(address);
  if (v6) return ipv6Restriction(v6);
  return 'invalid';
}

/** Dotted-decimal only (`127.0.0.1`, not `0x7f.1`): URL parsing has already normalised the other spellings. */
function parseIPv4(text: string): number[] | null {
  if (!isIPv4(text)) return null;
  return text.split('.').map(Number);
}

export function parseIPv6(text: string): number[] | null {
  const address = text.split('%', 1)[0];
  if (!isIPv6(address)) return null;
  let groups: string[];
  let tail: number[] = [];
  const lastColon = address.lastIndexOf(':');
  const dotted = address.slice(lastColon + 1);
  let head = address;
  if (dotted.includes('.')) {
    const embedded = parseIPv4(dotted);
    if (!embedded) return null;
    tail = embedded;
    // Keep the colon so that "::1.2.3.4" still has its "::".
    head = address.slice(0, lastColon + 1);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const tailGroups = tail.length / 2;
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const split = (part: string): string[] => (part === '' ? [] : part.split(':'));
  if (halves.length === 2) {
    const left = split(halves[0]);
    const right = split(halves[1]);
    const missing = 8 - tailGroups - left.length - right.length;
    if (missing < 1) return null;
    groups = [...left, ...Array<string>(missing).fill('0'), ...right];
  } else {
    groups = split(head);
  }
  if (groups.length + tailGroups !== 8) return null;
  const bytes: number[] = [];
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return null;
    const value = parseInt(group, 16);
    bytes.push(value >> 8, value & 0xff);
  }
  return [...bytes, ...tail];
}

function ipv4Restriction(bytes: readonly number[]): AddressRestriction | null {
  return IPV4_RANGES.find(([range, prefix]) => inRange(bytes, range, prefix))?.[2] ?? null;
}

function ipv6Restriction(bytes: readonly number[]): AddressRestriction | null {
  const embedded = (from: number): AddressRestriction | null => ipv4Restriction(bytes.slice(from, from + 4));
  const zeros = (from: number, to: number): boolean => bytes.slice(from, to).every((byte) => byte === 0);

  if (zeros(0, 16)) return 'unspecified';
  if (zeros(0, 15) && bytes[15] === 1) return 'loopback';
  // IPv4-mapped ::ffff:a.b.c.d, and the IPv4-translated ::ffff:0:a.b.c.d of RFC 2765.
  if (zeros(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return embedded(12);
  if (zeros(0, 8) && bytes[8] === 0xff && bytes[9] === 0xff && zeros(10, 12)) return embedded(12);
  // IPv4-compatible ::a.b.c.d (deprecated, still routed by some stacks).
  if (zeros(0, 12)) return embedded(12);
  // NAT64: the well-known prefix carries the IPv4 address; the local-use prefix is the operator's own network.
  if (inRange(bytes, [0x00, 0x64, 0xff, 0x9b], 96)) return embedded(12);
  if (inRange(bytes, [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48)) return 'private';
  if (inRange(bytes, [0x20, 0x02], 16)) return embedded(2);
  if (inRange(bytes, [0xfe, 0x80], 10)) return 'link-local';
  // Site-local (deprecated): a private network by another name.
  if (inRange(bytes, [0xfe, 0xc0], 10)) return 'private';
  if (inRange(bytes, [0xfc, 0x00], 7)) return 'unique-local';
  if (inRange(bytes, [0xff, 0x00], 8)) return 'multicast';
  if (!inRange(bytes, [0x20, 0x00], 3)) return 'reserved';
  return IPV6_GLOBAL_EXCEPTIONS.find(([range, prefix]) => inRange(bytes, range, prefix))?.[2] ?? null;
}

function inRange(bytes: readonly number[], range: readonly number[], prefix: number): boolean {
  for (let bit = 0; bit < prefix; bit += 8) {
    const bits = Math.min(8, prefix - bit);
    const mask = (0xff << (8 - bits)) & 0xff;
    const index = bit / 8;
    if (((bytes[index] ?? 0) & mask) !== ((range[index] ?? 0) & mask)) return false;
  }
  return true;
}
