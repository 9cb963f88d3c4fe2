import type { ServerResponse } from 'node:http';

import { HttpSink, type SinkRequest } from './http-sink.js';

/**
 * An HttpSink whose `/key/<key>` requests each take `holdMs` and are counted while open, per key: the most
 * requests of one key it ever had open at once is what a concurrency limit must bound.
 */
export class KeySink extends HttpSink {
  readonly open = new Map<string, number>();
  readonly maxOpen = new Map<string, number>();
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;

  constructor(private readonly holdMs = 20) {
    super();
  }

  serve(keys: string[]): this {
    for (const key of keys) this.on(`/key/${key}`, (req, res) => this.answer(key, req, res));
    return this;
  }

  /** Requests wait (counted as open) until `openGate()`. */
  closeGate(): this {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
    return this;
  }

  openGateNow(): void {
    this.openGate?.();
    this.gate = undefined;
  }

  openCount(): number {
    return [...this.open.values()].reduce((sum, n) => sum + n, 0);
  }

  private async answer(key: string, _req: SinkRequest, res: ServerResponse): Promise<void> {
    const now = (this.open.get(key) ?? 0) + 1;
    this.open.set(key, now);
    this.maxOpen.set(key, Math.max(this.maxOpen.get(key) ?? 0, now));
    await this.gate;
    // The step's own duration, so that runs of a key would overlap if nothing kept them apart.
    await new Promise((resolve) => setTimeout(resolve, this.holdMs));
    this.open.set(key, (this.open.get(key) ?? 1) - 1);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ key }));
  }
}
