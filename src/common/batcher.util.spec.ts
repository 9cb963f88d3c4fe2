import { describe, expect, it } from '@jest/globals';

import { Batcher } from './batcher.util.js';
import { TimeoutError } from './timeout.util.js';

/** A `send` whose batches stay in flight until the test answers them. */
function controlledSend() {
  const calls: { items: string[]; answer: () => void; fail: (error: Error) => void }[] = [];
  const send = (items: string[]) =>
    new Promise<string[]>((resolve, reject) => {
      calls.push({ items, answer: () => resolve(items.map((i) => `done:${i}`)), fail: reject });
    });
  return { calls, send };
}

/** Lets queued microtasks and promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('Batcher', () => {
  it('sends a lone item at once, in a batch of its own', async () => {
    const { calls, send } = controlledSend();
    const batcher = new Batcher(send, { maxInFlight: 1, maxBatch: 10 });
    const result = batcher.submit('a');
    await settle();
    expect(calls.map((c) => c.items)).toEqual([['a']]);
    calls[0].answer();
    await expect(result).resolves.toBe('done:a');
  });

  it('merges the items submitted in one tick', async () => {
    const { calls, send } = controlledSend();
    const batcher = new Batcher(send, { maxInFlight: 1, maxBatch: 10 });
    const results = ['a', 'b', 'c'].map((i) => batcher.submit(i));
    await settle();
    expect(calls.map((c) => c.items)).toEqual([['a', 'b', 'c']]);
    calls[0].answer();
    await expect(Promise.all(results)).resolves.toEqual(['done:a', 'done:b', 'done:c']);
  });

  it('holds items while batches are in flight, then sends them together', async () => {
    const { calls, send } = controlledSend();
    const batcher = new Batcher(send, { maxInFlight: 2, maxBatch: 10 });
    const first = batcher.submit('a');
    await settle();
    const second = batcher.submit('b');
    await settle();
    const held = ['c', 'd', 'e'].map((i) => batcher.submit(i));
    await settle();
    expect(calls.map((c) => c.items)).toEqual([['a'], ['b']]);

    calls[1].answer();
    await settle();
    expect(calls.map((c) => c.items)).toEqual([['a'], ['b'], ['c', 'd', 'e']]);
    calls[0].answer();
    calls[2].answer();
    await expect(Promise.all([first, second, ...held])).resolves.toEqual([
      'done:a',
      'done:b',
      'done:c',
      'done:d',
      'done:e',
    ]);
  });

  it('sends no more than maxBatch items in one batch', async () => {
    const { calls, send } = controlledSend();
    const batcher = new Batcher(send, { maxInFlight: 3, maxBatch: 2 });
    const results = ['a', 'b', 'c', 'd', 'e'].map((i) => batcher.submit(i));
    await settle();
    expect(calls.map((c) => c.items)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    calls.forEach((c) => c.answer());
    await expect(Promise.all(results)).resolves.toHaveLength(5);
  });

  it('sends items with one key one after the other, while other keys go on', async () => {
    const { calls, send } = controlledSend();
    const batcher = new Batcher(send, { maxInFlight: 3, maxBatch: 10, keyOf: (item: string) => item.split('#')[0] });
    const results = ['run1#1', 'run2#1', 'run1#2', 'run3#1', 'run1#3'].map((i) => batcher.submit(i));
    await settle();
    expect(calls.map((c) => c.items)).toEqual([['run1#1', 'run2#1', 'run3#1']]);
    // A free slot does not let run1#2 overtake run1#1; another key takes it.
    const other = batcher.submit('run4#1');
    await settle();
    expect(calls.map((c) => c.items)).toEqual([['run1#1', 'run2#1', 'run3#1'], ['run4#1']]);

    calls[0].answer();
    await settle();
    expect(calls[2].items).toEqual(['run1#2']);
    calls[2].answer();
    await settle();
    expect(calls[3].items).toEqual(['run1#3']);
    calls[1].answer();
    calls[3].answer();
    await expect(Promise.all([...results, other])).resolves.toEqual([
      'done:run1#1',
      'done:run2#1',
      'done:run1#2',
      'done:run3#1',
      'done:run1#3',
      'done:run4#1',
    ]);
  });

  it('when a batch fails, sends each item again alone, so that only the bad one fails', async () => {
    const sent: string[][] = [];
    const batcher = new Batcher(
      async (items: string[]) => {
        sent.push(items);
        if (items.includes('bad')) throw new Error('refused: bad');
        return items.map((i) => `done:${i}`);
      },
      { maxInFlight: 1, maxBatch: 10 },
    );
    const results = await Promise.allSettled(['a', 'bad', 'c'].map((i) => batcher.submit(i)));
    expect(results).toEqual([
      { status: 'fulfilled', value: 'done:a' },
      { status: 'rejected', reason: new Error('refused: bad') },
      { status: 'fulfilled', value: 'done:c' },
    ]);
    expect(sent).toEqual([['a', 'bad', 'c'], ['a'], ['bad'], ['c']]);
  });

  it('fails the items of a batch whose answer does not match it, rather than misassigning results', async () => {
    const batcher = new Batcher(async (items: string[]) => items.slice(1), { maxInFlight: 1, maxBatch: 10 });
    await expect(batcher.submit('a')).rejects.toThrow('A batch of 1 was answered with 0 results');
  });

  it('goes on sending after a failure', async () => {
    let failNext = true;
    const batcher = new Batcher(
      async (items: string[]) => {
        if (failNext) {
          failNext = false;
          throw new Error('connection lost');
        }
        return items;
      },
      { maxInFlight: 1, maxBatch: 10 },
    );
    await expect(batcher.submit('a')).rejects.toThrow('connection lost');
    await expect(batcher.submit('b')).resolves.toBe('b');
  });

  describe('deadlines', () => {
    it('rejects a waiting item at its deadline and never sends it', async () => {
      const { calls, send } = controlledSend();
      const batcher = new Batcher(send, { maxInFlight: 1, maxBatch: 10 });
      const first = batcher.submit('a');
      await settle();
      // 'b' waits behind the batch in flight; its deadline passes before that batch returns.
      const late = batcher.submit('b', Date.now());
      await expect(late).rejects.toBeInstanceOf(TimeoutError);
      const onTime = batcher.submit('c', Date.now() + 60_000);
      calls[0].answer();
      await expect(first).resolves.toBe('done:a');
      await settle();
      expect(calls.map((c) => c.items)).toEqual([['a'], ['c']]);
      calls[1].answer();
      await expect(onTime).resolves.toBe('done:c');
    });

    it('rejects an item in flight at its deadline and drops the answer that comes later', async () => {
      const { calls, send } = controlledSend();
      const batcher = new Batcher(send, { maxInFlight: 1, maxBatch: 10 });
      const result = batcher.submit('a', Date.now() + 20);
      await settle();
      expect(calls.map((c) => c.items)).toEqual([['a']]);
      await expect(result).rejects.toBeInstanceOf(TimeoutError);
      calls[0].answer();
      // The batcher goes on: the slot of the late batch is free again once it returns.
      const next = batcher.submit('b');
      await settle();
      calls[1].answer();
      await expect(next).resolves.toBe('done:b');
    });

    it('does not send again, one by one, the items of a failed batch whose deadline passed', async () => {
      const { calls, send } = controlledSend();
      const batcher = new Batcher(send, { maxInFlight: 1, maxBatch: 10 });
      const timedOut = batcher.submit('a', Date.now() + 20);
      const kept = batcher.submit('b');
      await settle();
      await expect(timedOut).rejects.toBeInstanceOf(TimeoutError);
      calls[0].fail(new Error('refused'));
      await settle();
      expect(calls.map((c) => c.items)).toEqual([['a', 'b'], ['b']]);
      calls[1].answer();
      await expect(kept).resolves.toBe('done:b');
    });
  });
});
