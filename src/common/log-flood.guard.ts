/** What a flood guard needs to say once a burst of alike lines is over. */
export interface FloodSummary {
  shape: string;
  suppressed: number;
  intervalMs: number;
}

export interface FloodGuardOptions {
  /** Lines of one shape written as they come in each interval; the rest are counted. */
  burst: number;
  intervalMs: number;
}

// Ids, addresses and counts vary between lines about one cause: they do not make a new cause.
const VARYING = [
  /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi,
  /\b[0-9a-f]{16,}\b/gi,
  /\d+/g,
] as const;

/** The cause of a line: its source and its message with what varies taken out. */
export function shapeOf(source: string, message: string): string {
  let shape = message.length > 300 ? message.slice(0, 300) : message;
  for (const pattern of VARYING) shape = shape.replace(pattern, '#');
  return `${source}: ${shape}`;
}

/**
 * Bounds how often one cause is logged: the first `burst` lines of a shape per interval go out, the others
 * are counted and summed up in one line when the interval ends. A flood (a connection error on every
 * retry) costs a few lines per interval instead of megabytes.
 */
export class LogFloodGuard {
  private readonly windows = new Map<string, { startedAt: number; written: number; suppressed: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly options: FloodGuardOptions,
    private readonly summarise: (summary: FloodSummary) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => this.flush(), options.intervalMs);
    this.timer.unref();
  }

  /** True when this line may be written. */
  allow(shape: string): boolean {
    const now = this.now();
    let window = this.windows.get(shape);
    if (window && now - window.startedAt >= this.options.intervalMs) {
      this.close(shape, window);
      window = undefined;
    }
    if (!window) {
      window = { startedAt: now, written: 0, suppressed: 0 };
      this.windows.set(shape, window);
    }
    if (window.written < this.options.burst) {
      window.written++;
      return true;
    }
    window.suppressed++;
    return false;
  }

  /** Sums up every interval that has ended; an open one goes on counting. */
  flush(): void {
    const now = this.now();
    for (const [shape, window] of this.windows) {
      if (now - window.startedAt >= this.options.intervalMs) this.close(shape, window);
    }
  }

  stop(): void {
    clearInterval(this.timer);
    for (const [shape, window] of this.windows) this.close(shape, window);
  }

  private close(shape: string, window: { suppressed: number }): void {
    this.windows.delete(shape);
    if (window.suppressed > 0) {
      this.summarise({ shape, suppressed: window.suppressed, intervalMs: this.options.intervalMs });
    }
  }
}
