import jsonata from 'jsonata';
import { ExpressionError } from './expression-error.js';
import { parseTemplate } from './template.js';

export { ExpressionError, type ExpressionErrorCode } from './expression-error.js';

export const DEFAULT_EXPRESSION_TIMEOUT_MS = 1000;
export const DEFAULT_EXPRESSION_MAX_DEPTH = 500;
export const DEFAULT_EXPRESSION_CACHE_SIZE = 1000;

export interface ExpressionEvaluatorOptions {
  /** Time limit of one evaluation (or of a whole template), unless the caller passes its own. */
  timeoutMs?: number;
  /** Limit of nested evaluations in flight: stops runaway recursion long before the time limit would. */
  maxDepth?: number;
  /** Compiled expressions kept, least recently used dropped first. */
  cacheSize?: number;
}

/** A compiled expression, bound to the limits of the evaluator that compiled it. */
export interface CompiledExpression {
  readonly source: string;
  evaluate(context: object, timeoutMs?: number): Promise<unknown>;
}

/** Throws `ExpressionError('expression_invalid')` when `source` is not a JSONata expression. */
export function validateExpression(source: string): void {
  parse(source, 0);
}

/** Throws `ExpressionError('expression_invalid')` when a `{{ expr }}` of the template does not compile. */
export function validateTemplate(template: string): void {
  for (const part of parseTemplate(template)) {
    if ('expression' in part) parse(part.expression, part.offset);
  }
}

/**
 * Evaluates JSONata with a time limit and a depth limit. Compiled expressions are shared through a cache, so the
 * limits of each evaluation travel in its own bindings, never in state shared by the compiled expression.
 */
export class ExpressionEvaluator {
  private readonly timeoutMs: number;
  private readonly maxDepth: number;
  private readonly cacheSize: number;
  private readonly cache = new Map<string, Compiled>();

  constructor(options: ExpressionEvaluatorOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_EXPRESSION_TIMEOUT_MS;
    this.maxDepth = options.maxDepth ?? DEFAULT_EXPRESSION_MAX_DEPTH;
    this.cacheSize = Math.max(1, options.cacheSize ?? DEFAULT_EXPRESSION_CACHE_SIZE);
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
    const deadline = Date.now() + timeoutMs;
    let rendered = '';
    for (const part of parseTemplate(template)) {
      if ('text' in part) {
        rendered += part.text;
        continue;
      }
      const compiled = this.compileAt(part.expression, part.offset);
      rendered += templateText(await compiled.evaluateUntil(context, deadline, timeoutMs));
    }
    return rendered;
  }

  private compileAt(source: string, offset: number): Compiled {
    const cached = this.cache.get(source);
    if (cached) {
      this.cache.delete(source);
      this.cache.set(source, cached);
      return cached;
    }
    const compiled = new Compiled(source, parse(source, offset), this.timeoutMs, this.maxDepth);
    this.cache.set(source, compiled);
    if (this.cache.size > this.cacheSize) {
      this.cache.delete(this.cache.keys().next().value as string);
    }
    return compiled;
  }
}

/** Per-evaluation limits, found by the hooks through the evaluation's root frame. */
interface Budget {
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly maxDepth: number;
  depth: number;
  exceeded?: 'timeout' | 'depth';
}

/** A binding name with a space: no `$variable` in an expression can reach it. */
const BUDGET_BINDING = 'hookrun budget';
const EVALUATE_ENTRY = Symbol.for('jsonata.__evaluate_entry');
const EVALUATE_EXIT = Symbol.for('jsonata.__evaluate_exit');

interface Frame {
  base: { lookup(name: string): unknown };
}

class LimitExceeded extends Error {}

class Compiled implements CompiledExpression {
  constructor(
    readonly source: string,
    private readonly expression: jsonata.Expression,
    private readonly defaultTimeoutMs: number,
    private readonly maxDepth: number,
  ) {}

  evaluate(context: object, timeoutMs = this.defaultTimeoutMs): Promise<unknown> {
    return this.evaluateUntil(context, Date.now() + timeoutMs, timeoutMs);
  }

  async evaluateUntil(context: object, deadline: number, timeoutMs: number): Promise<unknown> {
    const budget: Budget = { deadline, timeoutMs, maxDepth: this.maxDepth, depth: 0 };
    let result: unknown;
    try {
      result = await this.expression.evaluate(context, { [BUDGET_BINDING]: budget });
    } catch (err) {
      throw evaluationError(err, budget);
    }
    return toJson(result);
  }
}

function parse(source: string, offset: number): jsonata.Expression {
  let expression: jsonata.Expression;
  try {
    expression = jsonata(source);
  } catch (err) {
    const { message, position, jsonataCode } = describe(err, offset, false);
    throw new ExpressionError('expression_invalid', message, { position, jsonataCode });
  }
  installLimits(expression);
  return expression;
}

/**
 * jsonata calls these hooks around every node it evaluates. It evaluates array items and object values
 * concurrently (Promise.all), so counting every node in flight would make a group-by over 600 keys look 600 deep:
 * nodes inside those items are not counted, function bodies are (recursion goes through them). Entry and exit
 * decide from the node alone, so the count always balances; jsonata's `isParallelCall` flag is not used for
 * this, as it is set on frames that concurrent branches share and stays set after them.
 */
function installLimits(expression: jsonata.Expression): void {
  const concurrent = concurrentNodes(expression.ast());
  const entry = (node: object, _input: unknown, frame: Frame): void => {
    const budget = frame.base.lookup(BUDGET_BINDING) as Budget | undefined;
    if (!budget) return;
    if (Date.now() > budget.deadline) {
      budget.exceeded = 'timeout';
      throw new LimitExceeded();
    }
    if (!concurrent.has(node) && ++budget.depth > budget.maxDepth) {
      budget.exceeded = 'depth';
      throw new LimitExceeded();
    }
  };
  const exit = (node: object, _input: unknown, frame: Frame): void => {
    const budget = frame.base.lookup(BUDGET_BINDING) as Budget | undefined;
    if (budget && !concurrent.has(node)) budget.depth--;
  };
  // jsonata looks its hooks up by these symbols; its typings only declare string names.
  expression.assign(EVALUATE_ENTRY as unknown as string, entry);
  expression.assign(EVALUATE_EXIT as unknown as string, exit);
}

type AstObject = Record<string, unknown>;

function concurrentNodes(ast: unknown): WeakSet<object> {
  const concurrent = new WeakSet<object>();
  const seen = new WeakSet<object>();
  const visit = (node: unknown, inBranch: boolean): void => {
    if (Array.isArray(node)) {
      for (const child of node) visit(child, inBranch);
      return;
    }
    if (typeof node !== 'object' || node === null || seen.has(node)) return;
    seen.add(node);
    const ast = node as AstObject;
    if (ast.type === 'lambda') {
      // A function body runs when called, as part of whatever chain calls it.
      visit(ast.body, false);
      return;
    }
    if (inBranch) concurrent.add(ast);
    for (const [key, child] of Object.entries(ast)) {
      if (key === 'expressions' && ast.type === 'unary' && ast.value === '[') visit(child, true);
      else if (key === 'lhs' && ast.type === 'unary' && ast.value === '{') visitPairs(child, inBranch);
      else if (key === 'group') visitPairs((child as AstObject).lhs, inBranch);
      else visit(child, inBranch);
    }
  };
  const visitPairs = (pairs: unknown, inBranch: boolean): void => {
    for (const [key, value] of pairs as [unknown, unknown][]) {
      visit(key, inBranch);
      visit(value, true);
    }
  };
  visit(ast, false);
  return concurrent;
}

function evaluationError(err: unknown, budget: Budget): ExpressionError {
  // Checked first: $eval wraps errors thrown inside it into its own.
  if (budget.exceeded === 'timeout') {
    return new ExpressionError('expression_timeout', `the expression did not finish within ${budget.timeoutMs} ms`);
  }
  if (budget.exceeded === 'depth') {
    return new ExpressionError(
      'expression_error',
      `the expression nested deeper than ${budget.maxDepth} evaluations (runaway recursion?)`,
    );
  }
  if (err instanceof ExpressionError) return err;
  const { message, position, jsonataCode } = describe(err, 0, true);
  return new ExpressionError('expression_error', message, { position, jsonataCode });
}

interface JsonataErrorLike {
  code: string;
  message?: unknown;
  position?: unknown;
  value?: unknown;
  value2?: unknown;
  exp?: unknown;
}

function isJsonataError(err: unknown): err is JsonataErrorLike {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string';
}

function describe(
  err: unknown,
  offset: number,
  redact: boolean,
): { message: string; position?: number; jsonataCode?: string } {
  if (!isJsonataError(err)) {
    // Engine messages can quote data (JSON.parse does); resource errors are the useful ones to show.
    const name = err instanceof Error ? err.name : 'error';
    const message = err instanceof RangeError ? `${name}: ${err.message}` : `the expression failed (${name})`;
    return { message };
  }
  let message = typeof err.message === 'string' && err.message !== '' ? err.message : `JSONata error ${err.code}`;
  if (redact) message = redactValues(message, err);
  const position = typeof err.position === 'number' ? err.position + offset : undefined;
  return {
    message: position === undefined ? message : `${message} at position ${position}`,
    position,
    jsonataCode: err.code,
  };
}

/** jsonata writes the offending values (`{{value}}`, `{{value2}}`, `{{exp}}`) into its messages as JSON. */
function redactValues(message: string, err: JsonataErrorLike): string {
  let redacted = message;
  for (const value of [err.value, err.value2, err.exp]) {
    if (value === undefined) continue;
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch {
      continue;
    }
    if (text === undefined) continue;
    const at = redacted.lastIndexOf(text);
    if (at !== -1) redacted = `${redacted.slice(0, at)}<value>${redacted.slice(at + text.length)}`;
  }
  return redacted;
}

/** Copies a result into plain JSON: jsonata returns null-prototype objects, sequences and, possibly, functions. */
function toJson(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'object') throw notJson();
  if (Array.isArray(value)) return value.map(toJson);
  if (isJsonataFunction(value)) throw notJson();
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    // Webhook JSON may carry a "__proto__" key; assigning it would replace the copy's prototype instead.
    if (key === '__proto__') {
      Object.defineProperty(copy, key, { value: toJson(item), enumerable: true, writable: true, configurable: true });
    } else {
      copy[key] = toJson(item);
    }
  }
  return copy;
}

function isJsonataFunction(value: object): boolean {
  const candidate = value as { _jsonata_lambda?: unknown; _jsonata_function?: unknown; implementation?: unknown };
  return (
    candidate._jsonata_lambda === true ||
    (candidate._jsonata_function === true && typeof candidate.implementation === 'function')
  );
}

function notJson(): ExpressionError {
  return new ExpressionError('expression_error', 'the expression returned a function, which is not a JSON value');
}

function templateText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
