import { TimeoutError } from './timeout.util.js';

interface BatcherOptions<I> {
  maxInFlight: number;
  maxBatch: number;
  /** Items with the same key are never in flight together: a later one waits for the earlier one's batch. */
  keyOf?: (item: I) => string;
}

interface Waiting<I, O> {
  item: I;
  resolve: (result: O) => void;
  reject: (error: unknown) => void;
  settled: boolean;
  timer?: NodeJS.Timeout;
}

// Pays a statement's fixed cost once per batch; a failed batch is retried item by item; past its deadline an item is never sent.
export class Batcher<I, O> {
  private readonly queue: Waiting<I, O>[] = [];
  private readonly keysInFlight = new Set<string>();
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly send: (items: I[]) => Promise<O[]>,
    private readonly options: BatcherOptions<I>,
  ) {}

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
      if (batch.length === 0) return;
      this.inFlight++;
      void this.sendBatch(batch).finally(() => {
        for (const key of keys) this.keysInFlight.delete(key);
        this.inFlight--;
        this.flush();
      });
    }
  }

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
