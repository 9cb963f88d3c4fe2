import type jsonata from 'jsonata';
import type * as WorkerThreads from 'node:worker_threads';

import type { ExpressionErrorCode } from './expression.error.js';

// Sent to threads as source text (`toString()`): each function may use only its parameters, globals and locals.

export type JobPart = { text: string } | { expression: string; offset: number };

export interface EvaluationJob {
  parts: JobPart[];
  template: boolean;
  context: object;
  timeoutMs: number;
}

export interface ErrorDescription {
  code: ExpressionErrorCode;
  message: string;
  position?: number;
  jsonataCode?: string;
}

export type EvaluationReply = { value: unknown } | { error: ErrorDescription };

export interface RuntimeOptions {
  maxDepth: number;
  cacheSize: number;
}

export interface ExpressionRuntime {
  check(source: string, offset: number): ErrorDescription | undefined;
  evaluate(job: EvaluationJob): Promise<EvaluationReply>;
}

type Jsonata = typeof jsonata;

export function threadMain(
  threads: typeof WorkerThreads,
  load: (id: string) => unknown,
  runtimeOf: (jsonataModule: Jsonata, options: RuntimeOptions) => ExpressionRuntime,
): void {
  const port = threads.parentPort;
  if (!port) throw new Error('threadMain runs in a worker thread');
  const data = threads.workerData as { jsonataPath: string; options: RuntimeOptions };
  const runtime = runtimeOf(load(data.jsonataPath) as Jsonata, data.options);
  port.on('message', (job: EvaluationJob) => {
    void runtime.evaluate(job).then((reply) => port.postMessage(reply));
  });
  port.postMessage({ ready: true });
}

/** The time limit is checked between evaluation steps; one long native call (a regex) ends only with its thread. */
export function expressionRuntime(jsonataModule: Jsonata, options: RuntimeOptions): ExpressionRuntime {
  interface Budget {
    readonly deadline: number;
    readonly timeoutMs: number;
    depth: number;
    exceeded?: 'timeout' | 'depth';
  }
  interface Frame {
    base: { lookup(name: string): unknown };
  }
  interface JsonataErrorLike {
    code: string;
    message?: unknown;
    position?: unknown;
    value?: unknown;
    value2?: unknown;
    exp?: unknown;
  }
  type AstObject = Record<string, unknown>;

  /** A binding name with a space: no `$variable` in an expression can reach it. */
  const BUDGET_BINDING = 'hookrun budget';
  const EVALUATE_ENTRY = Symbol.for('jsonata.__evaluate_entry');
  const EVALUATE_EXIT = Symbol.for('jsonata.__evaluate_exit');
  const { maxDepth, cacheSize } = options;
  const cache = new Map<string, jsonata.Expression>();

  class LimitExceeded extends Error {}
  class Failure extends Error {
    constructor(readonly description: ErrorDescription) {
      super(description.message);
    }
  }

  const isJsonataError = (err: unknown): err is JsonataErrorLike =>
    typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string';

  /** jsonata writes the offending values (`{{value}}`, `{{value2}}`, `{{exp}}`) into its messages as JSON. */
  const redactValues = (message: string, err: JsonataErrorLike): string => {
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
  };

  const describe = (err: unknown, code: ExpressionErrorCode, offset: number, redact: boolean): ErrorDescription => {
    if (!isJsonataError(err)) {
      // Engine messages can quote data (JSON.parse does); resource errors are the useful ones to show.
      const name = err instanceof Error ? err.name : 'error';
      const message = err instanceof RangeError ? `${name}: ${err.message}` : `the expression failed (${name})`;
      return { code, message };
    }
    let message = typeof err.message === 'string' && err.message !== '' ? err.message : `JSONata error ${err.code}`;
    if (redact) message = redactValues(message, err);
    const position = typeof err.position === 'number' ? err.position + offset : undefined;
    const description: ErrorDescription = {
      code,
      message: position === undefined ? message : `${message} at position ${position}`,
      jsonataCode: err.code,
    };
    if (position !== undefined) description.position = position;
    return description;
  };

  /** jsonata evaluates items concurrently: counting them would make a group-by over 600 keys look 600 deep. */
  const concurrentNodes = (ast: unknown): WeakSet<object> => {
    const concurrent = new WeakSet<object>();
    const seen = new WeakSet<object>();
    const visit = (node: unknown, inBranch: boolean): void => {
      if (Array.isArray(node)) {
        for (const child of node) visit(child, inBranch);
        return;
      }
      if (typeof node !== 'object' || node === null || seen.has(node)) return;
      seen.add(node);
      const object = node as AstObject;
      if (object.type === 'lambda') {
        // A function body runs when called, as part of whatever chain calls it.
        visit(object.body, false);
        return;
      }
      if (inBranch) concurrent.add(object);
      for (const [key, child] of Object.entries(object)) {
        if (key === 'expressions' && object.type === 'unary' && object.value === '[') visit(child, true);
        else if (key === 'lhs' && object.type === 'unary' && object.value === '{') visitPairs(child, inBranch);
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
  };

  /** Entry and exit decide from the node alone, so the count balances (`isParallelCall` stays set too long). */
  const installLimits = (expression: jsonata.Expression): void => {
    const concurrent = concurrentNodes(expression.ast());
    const entry = (node: object, _input: unknown, frame: Frame): void => {
      const budget = frame.base.lookup(BUDGET_BINDING) as Budget | undefined;
      if (!budget) return;
      if (Date.now() > budget.deadline) {
        budget.exceeded = 'timeout';
        throw new LimitExceeded();
      }
      if (!concurrent.has(node) && ++budget.depth > maxDepth) {
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
  };

  const parse = (source: string, offset: number): jsonata.Expression => {
    try {
      return jsonataModule(source);
    } catch (err) {
      throw new Failure(describe(err, 'expression_invalid', offset, false));
    }
  };

  const compile = (source: string, offset: number): jsonata.Expression => {
    const cached = cache.get(source);
    if (cached) {
      cache.delete(source);
      cache.set(source, cached);
      return cached;
    }
    const expression = parse(source, offset);
    installLimits(expression);
    cache.set(source, expression);
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value as string);
    return expression;
  };

  const failure = (err: unknown, budget: Budget): ErrorDescription => {
    // Checked first: $eval wraps errors thrown inside it into its own.
    if (budget.exceeded === 'timeout') {
      return { code: 'expression_timeout', message: `the expression did not finish within ${budget.timeoutMs} ms` };
    }
    if (budget.exceeded === 'depth') {
      return {
        code: 'expression_error',
        message: `the expression nested deeper than ${maxDepth} evaluations (runaway recursion?)`,
      };
    }
    return describe(err, 'expression_error', 0, true);
  };

  class NotJson extends Error {}

  const isJsonataFunction = (value: object): boolean => {
    const candidate = value as { _jsonata_lambda?: unknown; _jsonata_function?: unknown; implementation?: unknown };
    return (
      candidate._jsonata_lambda === true ||
      (candidate._jsonata_function === true && typeof candidate.implementation === 'function')
    );
  };

  const toJson = (value: unknown): unknown => {
    if (value === undefined || value === null) return null;
    if (typeof value === 'string' || typeof value === 'boolean') return value;
    if (typeof value === 'number') return Number.isFinite(value) ? value : null;
    if (typeof value !== 'object') throw new NotJson();
    if (Array.isArray(value)) return value.map(toJson);
    if (isJsonataFunction(value)) throw new NotJson();
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
  };

  const templateText = (value: unknown): string => {
    if (value === null || value === undefined) return '';
    return typeof value === 'string' ? value : JSON.stringify(value);
  };

  /** `$secret("NAME")`: the value an http step's request context carries (`secrets`), else nothing. */
  const secretOf =
    (context: object) =>
    (name: unknown): string | undefined => {
      const secrets = (context as { secrets?: unknown }).secrets;
      if (typeof name !== 'string' || typeof secrets !== 'object' || secrets === null) return undefined;
      const value = Object.hasOwn(secrets, name) ? (secrets as Record<string, unknown>)[name] : undefined;
      return typeof value === 'string' ? value : undefined;
    };

  const evaluatePart = async (
    part: { expression: string; offset: number },
    context: object,
    budget: Budget,
  ): Promise<unknown> => {
    const expression = compile(part.expression, part.offset);
    let result: unknown;
    try {
      result = await expression.evaluate(context, { [BUDGET_BINDING]: budget, secret: secretOf(context) });
    } catch (err) {
      throw new Failure(failure(err, budget));
    }
    try {
      return toJson(result);
    } catch (err) {
      if (!(err instanceof NotJson)) throw err;
      throw new Failure({
        code: 'expression_error',
        message: 'the expression returned a function, which is not a JSON value',
      });
    }
  };

  return {
    check(source, offset) {
      try {
        parse(source, offset);
        return undefined;
      } catch (err) {
        if (err instanceof Failure) return err.description;
        throw err;
      }
    },

    async evaluate({ parts, template, context, timeoutMs }) {
      // The limit counts from here: time spent queued for a thread is not the expression's.
      const budget: Budget = { deadline: Date.now() + timeoutMs, timeoutMs, depth: 0 };
      try {
        if (!template) {
          const [part] = parts;
          if (!part || !('expression' in part)) throw new Error('an evaluation needs one expression');
          return { value: await evaluatePart(part, context, budget) };
        }
        let rendered = '';
        for (const part of parts) {
          rendered += 'text' in part ? part.text : templateText(await evaluatePart(part, context, budget));
        }
        return { value: rendered };
      } catch (err) {
        return { error: err instanceof Failure ? err.description : describe(err, 'expression_error', 0, true) };
      }
    },
  };
}
