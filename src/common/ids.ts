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

export function newId(): string {
  if (offset === POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const random = POOL.subarray(offset, offset + 16);
  offset += 16;
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
