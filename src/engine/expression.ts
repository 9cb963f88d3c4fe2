import jsonata from 'jsonata';
import { ExpressionError } from './expression-error.js';
import { EvaluationPool } from './expression-pool.js';
import { expressionRuntime, type EvaluationJob, type ExpressionRuntime, type JobPart } from './expression-runtime.js';
import { parseTemplate } from './template.js';

export { ExpressionError, type ExpressionErrorCode } from './expression-error.js';

export const DEFAULT_EXPRESSION_TIMEOUT_MS = 1000;
/** No evaluation runs longer, whatever limit it is given: a thread must not be parked for hours. */
export const MAX_EXPRESSION_TIMEOUT_MS = 60_000;
export const DEFAULT_EXPRESSION_MAX_DEPTH = 500;
export const DEFAULT_EXPRESSION_CACHE_SIZE = 1000;
export const DEFAULT_EXPRESSION_THREADS = 2;
/** Past its limit, an evaluation gets this long to stop by itself before its thread is terminated. */
const KILL_GRACE_MS = 100;

export interface ExpressionEvaluatorOptions {
  /**
   * Time limit of one evaluation (or of a whole template), unless the caller passes its own; counted from when a
   * thread starts it. Every limit is capped at `MAX_EXPRESSION_TIMEOUT_MS`.
   */
  timeoutMs?: number;
  /** Cap of every time limit, the caller's included (default and most `MAX_EXPRESSION_TIMEOUT_MS`). */
  maxTimeoutMs?: number;
  /** Limit of nested evaluations in flight: stops runaway recursion long before the time limit would. */
  maxDepth?: number;
  /** Compiled expressions kept (per thread), least recently used dropped first. */
  cacheSize?: number;
  /** Evaluation threads at most; evaluations wait for a free one. */
  threads?: number;
  /**
   * Heap limit of each thread (default V8's, as for the main thread): an expression that grows past it fails with
   * `expression_error`. V8 grants a thread 16 MB over its limit to stop; one allocation larger than that (a huge
   * string, say) still ends the process, so a low limit is not a safety feature.
   */
  threadMemoryMb?: number;
}

/** A compiled expression, bound to the limits of the evaluator that compiled it. */
export interface CompiledExpression {
  readonly source: string;
  evaluate(context: object, timeoutMs?: number): Promise<unknown>;
}

/** Compile checks need no limits and no cache: they run on the calling thread, synchronously. */
let checker: ExpressionRuntime | undefined;

function check(source: string, offset: number): void {
  checker ??= expressionRuntime(jsonata, { maxDepth: DEFAULT_EXPRESSION_MAX_DEPTH, cacheSize: 1 });
  const error = checker.check(source, offset);
  if (error) throw new ExpressionError(error.code, error.message, error);
}

/** Throws `ExpressionError('expression_invalid')` when `source` is not a JSONata expression. */
export function validateExpression(source: string): void {
  check(source, 0);
}

/** Throws `ExpressionError('expression_invalid')` when a `{{ expr }}` of the template does not compile. */
export function validateTemplate(template: string): void {
  for (const part of parseTemplate(template)) {
    if ('expression' in part) check(part.expression, part.offset);
  }
}

/**
 * Evaluates JSONata with a time limit and a depth limit, in worker threads (`expression-pool.ts`): however long an
 * expression runs, the calling thread stays free, and an expression past its limit is stopped, if need be by
 * terminating its thread. Expressions are compiled on the calling thread too, so that errors in them are thrown
 * at once by `compile`; the threads keep their own compiled copies. Call `close()` when done.
 */
export class ExpressionEvaluator {
  private readonly timeoutMs: number;
  private readonly maxTimeoutMs: number;
  private readonly cacheSize: number;
  private readonly cache = new Map<string, Compiled>();
  private readonly pool: EvaluationPool;

  constructor(options: ExpressionEvaluatorOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_EXPRESSION_TIMEOUT_MS;
    this.maxTimeoutMs = Math.min(options.maxTimeoutMs ?? MAX_EXPRESSION_TIMEOUT_MS, MAX_EXPRESSION_TIMEOUT_MS);
    this.cacheSize = Math.max(1, options.cacheSize ?? DEFAULT_EXPRESSION_CACHE_SIZE);
    this.pool = new EvaluationPool({
      maxThreads: Math.max(1, options.threads ?? DEFAULT_EXPRESSION_THREADS),
      graceMs: KILL_GRACE_MS,
      maxMemoryMb: options.threadMemoryMb,
      runtime: { maxDepth: options.maxDepth ?? DEFAULT_EXPRESSION_MAX_DEPTH, cacheSize: this.cacheSize },
    });
  }

  compile(expression: string): CompiledExpression {
    return this.compileAt(expression, 0);
  }

  /** The expression's value as JSON: `undefined` (no match) becomes `null`. */
  async evaluate(expression: string, context: object, timeoutMs?: number): Promise<unknown> {
    return this.compile(expression).evaluate(context, timeoutMs);
  }

  /** Replaces each `{{ expr }}`; `timeoutMs` bounds the whole template. */
  async renderTemplate(template: string, context: object, timeoutMs = this.timeoutMs): Promise<string> {
    const parts: JobPart[] = parseTemplate(template);
    if (!parts.some((part) => 'expression' in part)) return template;
    for (const part of parts) {
      if ('expression' in part) this.compileAt(part.expression, part.offset);
    }
    return (await this.run({ parts, template: true, context, timeoutMs })) as string;
  }

  /** Terminates the threads; evaluations still in flight reject with a plain `Error`. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  private async run(job: EvaluationJob): Promise<unknown> {
    const reply = await this.pool.run({ ...job, timeoutMs: Math.min(job.timeoutMs, this.maxTimeoutMs) });
    if ('error' in reply) throw new ExpressionError(reply.error.code, reply.error.message, reply.error);
    return reply.value;
  }

  private compileAt(source: string, offset: number): Compiled {
    const cached = this.cache.get(source);
    if (cached) {
      this.cache.delete(source);
      this.cache.set(source, cached);
      return cached;
    }
    check(source, offset);
    const compiled = new Compiled(source, (job) => this.run(job), this.timeoutMs);
    this.cache.set(source, compiled);
    if (this.cache.size > this.cacheSize) {
      this.cache.delete(this.cache.keys().next().value as string);
    }
    return compiled;
  }
}

class Compiled implements CompiledExpression {
  private readonly parts: JobPart[];

  constructor(
    readonly source: string,
    private readonly run: (job: EvaluationJob) => Promise<unknown>,
    private readonly defaultTimeoutMs: number,
  ) {
    this.parts = [{ expression: source, offset: 0 }];
  }

  evaluate(context: object, timeoutMs = this.defaultTimeoutMs): Promise<unknown> {
    return this.run({ parts: this.parts, template: false, context, timeoutMs });
  }
}
