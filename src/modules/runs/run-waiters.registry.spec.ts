import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';

import type { ChangeFeed, RunsEndedListener } from '../../common/change.feed.js';
import type { AppConfig } from '../../config/app.config.js';
import type { RunClaimsRepository } from './run-claims.repository.js';
import type { RunStatus } from './run-status.types.js';
import { RunWaitersRegistry } from './run-waiters.registry.js';

const RUN = '0193a8f2-6c1d-7e55-8b2a-3c4d5e6f7a8b';
const OTHER = '0193a8f2-6c1d-7e55-8b2a-3c4d5e6f7a8c';

interface Fixture {
  registry: RunWaitersRegistry;
  feed: () => RunsEndedListener;
  statuses: Map<string, RunStatus>;
  statusReads: string[][];
}

function registryWith(config: Partial<AppConfig> = {}): Fixture {
  let listener: RunsEndedListener | undefined;
  const changes = {
    onRunsEnded: (l: RunsEndedListener) => {
      listener = l;
      return () => (listener = undefined);
    },
  } as unknown as ChangeFeed;
  const statuses = new Map<string, RunStatus>();
  const statusReads: string[][] = [];
  const runs = {
    statusesOf: (ids: string[]) => {
      statusReads.push(ids);
      return Promise.resolve(new Map(ids.filter((id) => statuses.has(id)).map((id) => [id, statuses.get(id)!])));
    },
  } as unknown as RunClaimsRepository;
  const registry = new RunWaitersRegistry(changes, runs, {
    role: 'all',
    waitMaxWaiters: 10,
    ...config,
  } as AppConfig);
  return {
    registry,
    feed: () => {
      if (!listener) throw new Error('the registry does not listen');
      return listener;
    },
    statuses,
    statusReads,
  };
}

/** Lets the promise callbacks queued so far run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe('RunWaitersRegistry', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('resolves true the moment the feed says the run ended, and releases the waiter', async () => {
    const { registry, feed } = registryWith();
    const ended = registry.wait(RUN, { timeoutMs: 5000 });
    expect(registry.size).toBe(1);
    feed().ended(`${OTHER},${RUN}`);
    await expect(ended).resolves.toBe(true);
    expect(registry.size).toBe(0);
  });

  it('resolves every waiter of one run, and none of another', async () => {
    const { registry, feed } = registryWith();
    const first = registry.wait(RUN, { timeoutMs: 5000 });
    const second = registry.wait(RUN, { timeoutMs: 5000 });
    const other = registry.wait(OTHER, { timeoutMs: 5000 });
    feed().ended(RUN);
    await expect(Promise.all([first, second])).resolves.toEqual([true, true]);
    expect(registry.size).toBe(1);
    jest.advanceTimersByTime(5000);
    await expect(other).resolves.toBe(false);
  });

  it('resolves false once the time is up, and releases the waiter', async () => {
    const { registry, feed } = registryWith();
    const ended = registry.wait(RUN, { timeoutMs: 1000 });
    jest.advanceTimersByTime(999);
    expect(registry.size).toBe(1);
    jest.advanceTimersByTime(1);
    await expect(ended).resolves.toBe(false);
    expect(registry.size).toBe(0);
    // An end that comes later finds nobody: nothing happens.
    feed().ended(RUN);
  });

  it('releases the waiter of a client that went away', async () => {
    const { registry } = registryWith();
    const client = new AbortController();
    const ended = registry.wait(RUN, { timeoutMs: 30_000, signal: client.signal });
    expect(registry.size).toBe(1);
    client.abort();
    await expect(ended).resolves.toBe(false);
    expect(registry.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('does not register a client that is already gone', async () => {
    const { registry } = registryWith();
    const client = new AbortController();
    client.abort();
    await expect(registry.wait(RUN, { timeoutMs: 5000, signal: client.signal })).resolves.toBe(false);
    expect(registry.size).toBe(0);
  });

  it('sees an end that came before the waiter was registered when asked to check', async () => {
    const { registry, statuses, statusReads } = registryWith();
    statuses.set(RUN, 'completed');
    const ended = registry.wait(RUN, { timeoutMs: 5000, check: true });
    await expect(ended).resolves.toBe(true);
    expect(statusReads).toEqual([[RUN]]);
  });

  it('keeps waiting when the checked run has not ended, and reads nothing without check', async () => {
    const { registry, statuses, statusReads, feed } = registryWith();
    statuses.set(RUN, 'running');
    const checked = registry.wait(RUN, { timeoutMs: 5000, check: true });
    await settle();
    expect(registry.size).toBe(1);
    const unchecked = registry.wait(OTHER, { timeoutMs: 5000 });
    expect(statusReads).toEqual([[RUN]]);
    feed().ended(`${RUN},${OTHER}`);
    await expect(Promise.all([checked, unchecked])).resolves.toEqual([true, true]);
  });

  it('reads the status of every waited run when the feed is back, and resolves those that ended meanwhile', async () => {
    const { registry, statuses, statusReads, feed } = registryWith();
    const ended = registry.wait(RUN, { timeoutMs: 5000 });
    const running = registry.wait(OTHER, { timeoutMs: 5000 });
    statuses.set(RUN, 'failed');
    statuses.set(OTHER, 'running');
    feed().reconnected();
    await expect(ended).resolves.toBe(true);
    expect(statusReads).toEqual([[RUN, OTHER]]);
    expect(registry.size).toBe(1);
    jest.advanceTimersByTime(5000);
    await expect(running).resolves.toBe(false);
  });

  it('answers null past WAIT_MAX_WAITERS, and takes waiters again once some are released', async () => {
    const { registry, feed } = registryWith({ waitMaxWaiters: 2 });
    const held = [registry.wait(RUN, { timeoutMs: 5000 }), registry.wait(OTHER, { timeoutMs: 5000 })];
    expect(registry.wait(RUN, { timeoutMs: 5000 })).toBeNull();
    feed().ended(RUN);
    await held[0];
    expect(registry.wait(RUN, { timeoutMs: 5000 })).not.toBeNull();
  });

  it('answers every waiter at once when the process stops, and lets none wait after', async () => {
    const { registry } = registryWith();
    const ended = registry.wait(RUN, { timeoutMs: 30_000 });
    registry.close();
    await expect(ended).resolves.toBe(false);
    expect(registry.size).toBe(0);
    expect(registry.wait(RUN, { timeoutMs: 5000 })).toBeNull();
  });

  it('does not listen in a worker-only process, which answers no requests', () => {
    const { registry, feed } = registryWith({ role: 'worker' });
    expect(feed).toThrow('does not listen');
    expect(registry.wait(RUN, { timeoutMs: 5000 })).toBeNull();
  });
});
