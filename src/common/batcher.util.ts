interface BatcherOptions<I> {
  /** Batches sent at once; an item waits only while this many are in flight. */
  maxInFlight: number;
  /** Items per batch at most. */
  maxBatch: number;
  /**
   * Items with the same key are sent one after the other: a later one waits, while the others go on,
   * until the batch holding the earlier one has returned.
   */
  keyOf?: (item: I) => string;
}

import { TimeoutError } from './timeout.util.js';

interface Waiting<I, O> {
  item: I;
  resolve: (result: O) => void;
  reject: (error: unknown) => void;
  /** Answered already (a result, an error, or its deadline): later answers are dropped. */
  settled: boolean;
  timer?: NodeJS.Timeout;
}

/**
 * Merges items submitted close together into one call of `send`, which answers every item of a batch
 * in order. While fewer than `maxInFlight` batches are in flight an item goes out at once (with the
 * others submitted in the same tick), so a lone item waits for nothing; under load, items queue behind
 * the batches in flight and go out together when one returns. A statement's fixed cost (round trip,
 * parse, transaction, commit) is then paid once per batch: for a one-row update, most of its cost.
 *
 * When a batch of several items fails, each item is sent again alone, so that one bad item (a value
 * the database refuses, a deadlock with another writer) fails only itself.
 *
 * An item may have a deadline: past it, the item rejects with a `TimeoutError`, and is never sent if
 * it was still waiting, so that a stalled database leaves no backlog of stale writes behind it.
 */
export class Batcher<I, O> {
  private readonly queue: Waiting<I, O>[] = [];
  private readonly keysInFlight = new Set<string>();
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly send: (items: I[]) => Promise<O[]>,
    private readonly options: BatcherOptions<I>,
  ) {}

  /** `deadline`: epoch ms after which the caller no longer waits for the item. */
  submit(item: I, deadline?: number): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const waiting: Waiting<I, O> = {
        item,
        settled: false,
        resolve: (result) => {
          if (waiting.settled) return;
          waiting.settled = true;
          clearTimeout(waiting.timer);
          resolve(result);
        },
        reject: (error) => {
          if (waiting.settled) return;
          waiting.settled = true;
          clearTimeout(waiting.timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      };
      if (deadline !== undefined) {
        const timeoutMs = Math.max(0, deadline - Date.now());
        waiting.timer = setTimeout(() => {
          const at = this.queue.indexOf(waiting);
          if (at >= 0) this.queue.splice(at, 1);
          waiting.reject(new TimeoutError('The write', timeoutMs));
        }, timeoutMs);
      }
      this.queue.push(waiting);
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const { batch, keys } = this.take();
      // What is left waits for keys in flight.
      if (batch.length === 0) return;
      this.inFlight++;
      void this.sendBatch(batch).finally(() => {
        for (const key of keys) this.keysInFlight.delete(key);
        this.inFlight--;
        this.flush();
      });
    }
  }

  /** The next batch: the oldest items, leaving in the queue any whose key is in this batch or in flight. */
  private take(): { batch: Waiting<I, O>[]; keys: string[] } {
    const { keyOf, maxBatch } = this.options;
    if (!keyOf) return { batch: this.queue.splice(0, maxBatch), keys: [] };
    const batch: Waiting<I, O>[] = [];
    const keys: string[] = [];
    let kept = 0;
    for (const waiting of this.queue) {
      const key = keyOf(waiting.item);
      if (batch.length < maxBatch && !this.keysInFlight.has(key)) {
        this.keysInFlight.add(key);
        keys.push(key);
        batch.push(waiting);
      } else {
        this.queue[kept++] = waiting;
      }
    }
    this.queue.length = kept;
    return { batch, keys };
  }

  private async sendBatch(batch: Waiting<I, O>[]): Promise<void> {
    let results: O[];
    try {
      results = await this.send(batch.map((w) => w.item));
      if (results.length !== batch.length) {
        throw new Error(`A batch of ${batch.length} was answered with ${results.length} results`);
      }
    } catch (error) {
      if (batch.length === 1) {
        batch[0].reject(error);
        return;
      }
      await Promise.all(batch.filter((waiting) => !waiting.settled).map((waiting) => this.sendBatch([waiting])));
      return;
    }
    batch.forEach((waiting, i) => waiting.resolve(results[i]));
  }
}
