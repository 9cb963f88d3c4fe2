import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/**
 * UUIDv7 ids (time-ordered), from a pool of random bytes refilled 256 ids at a time: the ingest path
 * makes three ids a request, and the `uuid` package asks the OS for 16 random bytes each time. Ids
 * made in the same millisecond keep increasing, as the package's own generator does.
 */
const POOL = Buffer.alloc(16 * 256);
let offset = POOL.length;
let lastMs = -Infinity;
let seq = 0;

function nextRandom(): Buffer {
  if (offset === POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const random = POOL.subarray(offset, offset + 16);
  offset += 16;
  return random;
}

export function newId(): string {
  const random = nextRandom();
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    // 31 random bits, so that a run of increments in one millisecond cannot overflow.
    seq = random.readUInt32BE(6) & 0x7fffffff;
  } else {
    seq = (seq + 1) | 0;
  }
  return v7({ random, msecs: lastMs, seq });
}

/**
 * A UUIDv7 of a given millisecond (a moment noted earlier): ordered with other ids across milliseconds,
 * random within one.
 */
export function newIdAt(ms: number): string {
  const random = nextRandom();
  return v7({ random, msecs: ms, seq: random.readUInt32BE(6) & 0x7fffffff });
}

/** The millisecond a UUIDv7 was made at (its first 48 bits). */
export function idTime(id: string): Date {
  return new Date(parseInt(id.slice(0, 8) + id.slice(9, 13), 16));
}

/**
 * The smallest UUIDv7 of the millisecond `time`: every v7 id made before it sorts below, every one made
 * at or after it sorts at or above, so a time range becomes an id range that an index on the id walks.
 */
export function firstIdAt(time: Date): string {
  const hex = Math.max(0, Math.floor(time.getTime())).toString(16).padStart(12, '0').slice(-12);
  return `${hex.slice(0, 8)}-${hex.slice(8)}-7000-8000-000000000000`;
}
