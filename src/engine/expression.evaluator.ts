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
const KILL_GRACE_MS = 100;
/** The longest an expression may hold the event loop (lock renewals, other runs) before it moves to a thread. */
export const INLINE_SLICE_MS = 50;

/** Built-ins linear in their arguments that call back into nothing: no single call of them runs long. */
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
  // hookrun's own: a lookup in the context (`$secret("NAME")`, http step requests).
  'secret',
]);

/** Whether every step of an expression passes the deadline check: none is one long native call (regex, sort, range). */
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
  /** Limit of one evaluation or whole template when the caller gives none; capped at `maxTimeoutMs`. */
  timeoutMs?: number;
  maxTimeoutMs?: number;
  maxDepth?: number;
  cacheSize?: number;
  threads?: number;
  /** Heap limit of each thread; V8 allows 16 MB over it, so one larger allocation still ends the process. */
  threadMemoryMb?: number;
  inline?: boolean;
}

export interface CompiledExpression {
  readonly source: string;
  evaluate(context: object, timeoutMs?: number): Promise<unknown>;
}

let checker: ExpressionRuntime | undefined;

function check(source: string, offset: number): void {
  checker ??= expressionRuntime(jsonata, { maxDepth: DEFAULT_EXPRESSION_MAX_DEPTH, cacheSize: 1 });
  const error = checker.check(source, offset);
  if (error) throw new ExpressionError(error.code, error.message, error);
}

export function validateExpression(source: string): void {
  check(source, 0);
}

export function validateTemplate(template: string): void {
  for (const part of parseTemplate(template)) {
    if ('expression' in part) check(part.expression, part.offset);
  }
}

// Inline for at most INLINE_SLICE_MS when `runsInline` (a thread round trip costs more than most expressions).
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

  async close(): Promise<void> {
    this.closed = true;
    await this.pool.close();
  }

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
