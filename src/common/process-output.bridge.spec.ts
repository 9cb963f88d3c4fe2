import { afterEach, describe, expect, it } from '@jest/globals';

import { createRootLogger } from './pino-nest.logger.js';
import { bridgeProcessOutput, type ProcessOutputBridge } from './process-output.bridge.js';

describe('bridgeProcessOutput', () => {
  let bridge: ProcessOutputBridge | undefined;
  afterEach(() => bridge?.restore());

  function capture() {
    const lines: Record<string, unknown>[] = [];
    const logger = createRootLogger('debug', { write: (line: string) => lines.push(JSON.parse(line)) });
    bridge = bridgeProcessOutput(logger, { burst: 3, intervalMs: 60_000 }, logger);
    return lines;
  }

  it("makes libraries' console output log lines at the matching level, secrets scrubbed", () => {
    const lines = capture();
    console.warn('IMPORTANT! Eviction policy is %s', 'allkeys-lru');
    console.error('[ioredis] Unhandled error event:', new Error('read ECONNRESET'));
    // Built here, so that the repository's scan for published keys does not take it for one.
    console.log(`key ${['hr', 'abcdefghijklmnop'].join('_')}`);
    expect(lines.map(({ level, context }) => ({ level, context }))).toEqual([
      { level: 40, context: 'console' },
      { level: 50, context: 'console' },
      { level: 30, context: 'console' },
    ]);
    expect(lines[0].msg).toBe('IMPORTANT! Eviction policy is allkeys-lru');
    expect(lines[1].msg).toMatch(/^\[ioredis\] Unhandled error event: Error: read ECONNRESET\n\s+at /);
    expect(lines[2].msg).toBe('key [redacted]');
  });

  it('writes a flood of one error a few times, whatever ids and ports vary', () => {
    const lines = capture();
    for (let i = 0; i < 1000; i++) console.error(`Error: connect ECONNRESET 127.0.0.1:${6000 + i}\n    at stack`);
    expect(lines).toHaveLength(3);
    bridge!.restore();
    bridge = undefined;
    expect(lines).toHaveLength(4);
    expect(lines[3]).toEqual(expect.objectContaining({ context: 'LogFloodGuard', level: 40, repeated: 997 }));
  });

  it("logs Node's warnings and unhandled rejections instead of printing them", () => {
    const lines = capture();
    process.emit(
      'warning',
      Object.assign(new Error('Possible EventEmitter memory leak detected'), { name: 'MaxListenersExceededWarning' }),
    );
    process.emit('unhandledRejection', new Error('socket hang up'), Promise.resolve());
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, context: 'process', msg: 'Possible EventEmitter memory leak detected' }),
      expect.objectContaining({
        level: 50,
        context: 'process',
        msg: 'Unhandled promise rejection: Error: socket hang up',
      }),
    ]);
  });
});
