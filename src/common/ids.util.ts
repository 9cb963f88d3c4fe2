import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

// Random bytes pooled 256 ids at a time: `uuid` asks the OS for 16 bytes per id.
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
    seq = random.readUInt32BE(6) & 0x7fffffff;
  } else {
    seq = (seq + 1) | 0;
  }
  return v7({ random, msecs: lastMs, seq });
}

export function newIdAt(ms: number): string {
  const random = nextRandom();
  return v7({ random, msecs: ms, seq: random.readUInt32BE(6) & 0x7fffffff });
}

export function idTime(id: string): Date {
  return new Date(parseInt(id.slice(0, 8) + id.slice(9, 13), 16));
}

/** The smallest UUIDv7 of the millisecond `time`, so that a time range becomes an id range. */
export function firstIdAt(time: Date): string {
  const hex = Math.max(0, Math.floor(time.getTime())).toString(16).padStart(12, '0').slice(-12);
  return `${hex.slice(0, 8)}-${hex.slice(8)}-7000-8000-000000000000`;
}
