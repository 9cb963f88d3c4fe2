import jsonata from 'jsonata';
import { ExpressionError } from './expression.error.js';
import { EvaluationPool } from './expression.pool.js';
import {
  expressionRuntime,
  type ErrorDescription,
  type EvaluationJob,
  type ExpressionRuntime,
  type JobPart,
} from './expression.runtime.js';
import { parseTemplate } from './template.parser.js';

export { ExpressionError, type ExpressionErrorCode } from './expression.error.js';

export const DEFAULT_EXPRESSION_TIMEOUT_MS = 1000;
/** No evaluation runs longer, whatever limit it is given: a thread must not be parked for hours. */
export const MAX_EXPRESSION_TIMEOUT_MS = 60_000;
export const DEFAULT_EXPRESSION_MAX_DEPTH = 500;
export const DEFAULT_EXPRESSION_CACHE_SIZE = 1000;
export const DEFAULT_EXPRESSION_THREADS = 2;
/** Past its limit, an evaluation gets this long to stop by itself before its thread is terminated. */
const KILL_GRACE_MS = 100;
/**
 * How long an expression may run on the calling thread (`runsInline`) before it is stopped there and run
 * again in a thread: the longest it can hold up the event loop (lock renewal, the other runs).
 */
export const INLINE_SLICE_MS = 50;

/**
 * Built-ins that may run on the calling thread: each call is linear in its arguments and calls back into
 * nothing, so no single call runs long. Left out: regexes and what takes them, sorting, `$distinct`,
 * `$eval`, `$pad` (of any width), and every function that calls functions (`$map`, `$filter`, ...).
 */
const INLINE_FUNCTIONS: ReadonlySet<string> = new Set([
  'sum',
  'count',
  'max',
  'min',
  'average',
  'string',
  'length',
  'substring',
  'substringBefore',
  'substringAfter',
  'uppercase',
  'lowercase',
  'trim',
  'contains',
  'split',
  'join',
  'replace',
  'number',
  'abs',
  'floor',
  'ceil',
  'round',
  'power',
  'sqrt',
  'random',
  'formatNumber',
  'formatBase',
  'formatInteger',
  'parseInteger',
  'boolean',
  'not',
  'exists',
  'keys',
  'lookup',
  'merge',
  'append',
  'reverse',
  'type',
  'now',
  'millis',
  'fromMillis',
  'toMillis',
  'encodeUrl',
  'encodeUrlComponent',
  'decodeUrl',
  'decodeUrlComponent',
  'base64encode',
  'base64decode',
  'assert',
  'error',
]);

/**
 * Whether an expression can be stopped in time on the calling thread: every step of its evaluation passes
 * the deadline check, and it holds no step that is one long native call (a regex, a sort, a range, a
 * built-in outside INLINE_FUNCTIONS, which may call functions per item without a check between them).
 * Those run in threads; so does any expression that ran past INLINE_SLICE_MS once.
 */
export function runsInline(source: string): boolean {
  let ast: unknown;
  try {
    ast = jsonata(source).ast();
  } catch {
    return false;
  }
  const bound = new Set(['', '$']);
  const variables: string[] = [];
  let inline = true;
  const visit = (node: unknown): void => {
    if (!inline || typeof node !== 'object' || node === null) return;
    if (Array.isArray(node)) {
      for (const child of node) visit(child);
      return;
    }
    const { type, value } = node as { type?: unknown; value?: unknown };
    if (type === 'regex' || type === 'sort' || (type === 'binary' && value === '..')) {
      inline = false;
      return;
    }
    if (type === 'variable' && typeof value === 'string') variables.push(value);
    if (type === 'bind') collectNames((node as { lhs?: unknown }).lhs, bound);
    if (type === 'lambda') collectNames((node as { arguments?: unknown }).arguments, bound);
    for (const key of ['focus', 'index'] as const) {
      const name = (node as Record<string, unknown>)[key];
      if (typeof name === 'string') bound.add(name);
    }
    for (const child of Object.values(node)) visit(child);
  };
  visit(ast);
  return inline && variables.every((name) => bound.has(name) || INLINE_FUNCTIONS.has(name));
}

function collectNames(nodes: unknown, into: Set<string>): void {
  for (const node of Array.isArray(nodes) ? nodes : [nodes]) {
    const { type, value } = (node ?? {}) as { type?: unknown; value?: unknown };
    if (type === 'variable' && typeof value === 'string') into.add(value);
  }
}

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
  /** Whether expressions that `runsInline` may run on the calling thread (default true; false: always a thread). */
  inline?: boolean;
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
 * Evaluates JSONata with a time limit and a depth limit. An expression that `runsInline` runs on the calling
 * thread for at most INLINE_SLICE_MS, checked at every step (a message to a thread and back costs more than most
 * expressions); any other, and one that ran past its slice, in worker threads (`expression-pool.ts`), where an
 * expression past its limit is stopped, if need be by terminating its thread. Either way no expression holds the
 * calling thread for long. Expressions are compiled on the calling thread too, so that errors in them are thrown
 * at once by `compile`. Call `close()` when done.
 */
export class ExpressionEvaluator {
  private readonly timeoutMs: number;
  private readonly maxTimeoutMs: number;
  private readonly cacheSize: number;
  private readonly cache = new Map<string, Compiled>();
  private readonly pool: EvaluationPool;
  private readonly inline: ExpressionRuntime;
  private readonly inlineAllowed: boolean;
  private closed = false;

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
    this.inlineAllowed = options.inline ?? true;
    this.inline = expressionRuntime(jsonata, {
      maxDepth: options.maxDepth ?? DEFAULT_EXPRESSION_MAX_DEPTH,
      cacheSize: this.cacheSize,
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
    const compiled = parts.flatMap((part) =>
      'expression' in part ? [this.compileAt(part.expression, part.offset)] : [],
    );
    return (await this.run({ parts, template: true, context, timeoutMs }, compiled)) as string;
  }

  /** Terminates the threads; evaluations still in flight reject with a plain `Error`. */
  async close(): Promise<void> {
    this.closed = true;
    await this.pool.close();
  }

  /** Inline when every expression of the job may be (`compiled`), else (or past its slice) in a thread. */
  private async run(job: EvaluationJob, compiled: Compiled[]): Promise<unknown> {
    const timeoutMs = Math.min(job.timeoutMs, this.maxTimeoutMs);
    if (this.closed) throw new Error('the expression evaluator is closed');
    if (this.inlineAllowed && compiled.every((c) => c.inline)) {
      const slice = Math.min(timeoutMs, INLINE_SLICE_MS);
      const reply = await this.inline.evaluate({ ...job, timeoutMs: slice });
      if (!('error' in reply)) return reply.value;
      if (reply.error.code !== 'expression_timeout' || slice === timeoutMs) throw toError(reply.error);
      // Too long for the calling thread: this evaluation and every later one of these expressions go to a thread.
      for (const c of compiled) c.inline = false;
    }
    const reply = await this.pool.run({ ...job, timeoutMs });
    if ('error' in reply) throw toError(reply.error);
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
    const compiled: Compiled = new Compiled(source, (job) => this.run(job, [compiled]), this.timeoutMs);
    compiled.inline = runsInline(source);
    this.cache.set(source, compiled);
    if (this.cache.size > this.cacheSize) {
      this.cache.delete(this.cache.keys().next().value as string);
    }
    return compiled;
  }
}

class Compiled implements CompiledExpression {
  private readonly parts: JobPart[];
  /** Evaluated on the calling thread (see `runsInline`); cleared for good once it runs past its slice there. */
  inline = false;

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

function toError(error: ErrorDescription): ExpressionError {
  return new ExpressionError(error.code, error.message, error);
}
