import { DefinitionError } from './definition.error.js';
import { ExpressionError, validateExpression, validateTemplate } from './expression.evaluator.js';

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `null` stands for "not set" in optional fields, as clients often send it. */
export function optional(value: unknown): unknown {
  return value === null ? undefined : value;
}

export function integerIn(value: unknown, min: number, max: number, what: string, note?: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = `an integer from ${min} to ${max}${note ? ` ${note}` : ''}`;
    throw new DefinitionError(`${what} must be ${range}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function requiredString(raw: JsonObject, key: string, label: string): string {
  const value = raw[key];
  if (value === undefined || value === null) throw new DefinitionError(`${label}: missing ${key}`);
  if (typeof value !== 'string') throw new DefinitionError(`${label}: ${key} must be a string`);
  return value;
}

export function requiredExpression(raw: JsonObject, label: string): string {
  const expression = requiredString(raw, 'expression', label);
  compiles(expression, `${label}: expression`);
  return expression;
}

export function compiles(source: string, what: string, template = false): void {
  try {
    if (template) validateTemplate(source);
    else validateExpression(source);
  } catch (err) {
    if (err instanceof ExpressionError) throw new DefinitionError(`${what} does not compile: ${err.message}`);
    throw err;
  }
}

export function rejectUnknownKeys(raw: JsonObject, known: readonly string[], label: string, kind?: string): void {
  const unknown = Object.keys(raw).filter((key) => !known.includes(key));
  if (unknown.length === 0) return;
  const names = unknown.map((key) => JSON.stringify(key)).join(', ');
  const noun = unknown.length === 1 ? 'property' : 'properties';
  throw new DefinitionError(`${label}: unknown ${noun} ${names}${kind ? ` for ${kind}` : ''}`);
}
