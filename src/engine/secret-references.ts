import jsonata from 'jsonata';

import type { WorkflowDefinition } from './definition.types.js';
import { DefinitionError } from './definition.error.js';
import type { HttpStep } from './steps/http.step.js';
import { parseTemplate } from './template.parser.js';

/** A step secret's name, as `PUT /v1/secrets/{NAME}` takes it and `secrets.NAME` / `$secret("NAME")` use it. */
export const SECRET_NAME_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

/** Where a definition uses a secret: the http step whose request names it. */
export interface SecretReference {
  name: string;
  stepId: string;
}

type AstNode = Record<string, unknown>;

const isNode = (value: unknown): value is AstNode => typeof value === 'object' && value !== null;

/**
 * The secret names one expression uses: `secrets.NAME` (a path that starts at `secrets`, or `$$.secrets`) and
 * `$secret("NAME")`. Any other use of them (`secrets` alone, `secrets[0]`, `$secret(input.name)`, `$secret` as a
 * value) is refused: the names a step needs must be known before it runs, and only those are resolved.
 */
export function secretNamesOfExpression(source: string): string[] {
  const names = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const child of node) visit(child);
      return;
    }
    if (!isNode(node)) return;
    if (node.type === 'path' && Array.isArray(node.steps)) {
      const name = pathSecret(node.steps as unknown[]);
      if (name !== undefined) names.add(name);
    } else if (node.type === 'function' && isSecretVariable(node.procedure)) {
      names.add(functionSecret(node));
      visit(node.arguments);
      return;
    } else if (isSecretVariable(node)) {
      throw new SecretReferenceError('$secret can only be called with a name: $secret("NAME")');
    }
    for (const child of Object.values(node)) visit(child);
  };
  visit(jsonata(source).ast());
  return [...names];
}

/** The secret names of a template's `{{ }}` expressions. */
export function secretNamesOfTemplate(template: string): string[] {
  const names = new Set<string>();
  for (const part of parseTemplate(template)) {
    if ('expression' in part) for (const name of secretNamesOfExpression(part.expression)) names.add(name);
  }
  return [...names];
}

/** An http step's secret names, in the order they first appear (url, headers, body); computed once per step. */
export function secretNamesOfStep(step: HttpStep): readonly string[] {
  const known = STEP_NAMES.get(step);
  if (known) return known;
  const { url, headers, body } = step.request;
  const names = new Set(secretNamesOfTemplate(url));
  for (const value of Object.values(headers ?? {})) for (const name of secretNamesOfTemplate(value)) names.add(name);
  if (body !== undefined) for (const name of secretNamesOfExpression(body)) names.add(name);
  const list = Object.freeze([...names]);
  STEP_NAMES.set(step, list);
  return list;
}

const STEP_NAMES = new WeakMap<HttpStep, readonly string[]>();

/**
 * Every secret a validated definition uses, with the step that uses it. Secrets are for http requests alone: one
 * named anywhere else (a transform, a condition, the output) would end up in stored outputs, so it is refused.
 */
export function secretReferencesOf(definition: WorkflowDefinition): SecretReference[] {
  const references: SecretReference[] = [];
  for (const step of definition.steps) {
    const label = `step "${step.id}"`;
    if (step.type === 'http') {
      try {
        for (const name of secretNamesOfStep(step)) references.push({ name, stepId: step.id });
      } catch (error) {
        if (error instanceof SecretReferenceError) throw new DefinitionError(`${label}: request: ${error.message}`);
        throw error;
      }
      continue;
    }
    const { id: _id, type: _type, ...fields } = step;
    refuseSecretsIn(fields, label);
  }
  const { steps: _steps, ...rest } = definition;
  refuseSecretsIn(rest, 'definition');
  return references;
}

function refuseSecretsIn(value: unknown, label: string): void {
  for (const text of stringsOf(value)) {
    // Most strings never mention one: parsing them all would only cost time.
    if (!text.includes('secret')) continue;
    let uses: boolean;
    try {
      uses = (text.includes('{{') ? secretNamesOfTemplate(text) : secretNamesOfExpression(text)).length > 0;
    } catch (error) {
      // A misuse of `secrets` is a use; a string that is no expression (a step id, a message) is none.
      if (!(error instanceof SecretReferenceError)) continue;
      uses = true;
    }
    if (uses) {
      throw new DefinitionError(
        `${label}: secrets can be used only in an http step's request (url, headers, body), not in ${JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text)}`,
      );
    }
  }
}

function* stringsOf(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const item of value) yield* stringsOf(item);
  else if (isNode(value)) for (const item of Object.values(value)) yield* stringsOf(item);
}

function isSecretVariable(node: unknown): boolean {
  return isNode(node) && node.type === 'variable' && node.value === 'secret';
}

function functionSecret(node: AstNode): string {
  const args = node.arguments as unknown[] | undefined;
  const [first] = args ?? [];
  if (args?.length !== 1 || !isNode(first) || first.type !== 'string' || typeof first.value !== 'string') {
    throw new SecretReferenceError('$secret takes one name written in the expression: $secret("NAME")');
  }
  return validName(first.value);
}

/** `secrets.NAME...` or `$$.secrets.NAME...`: the name, or undefined for a path that does not start at `secrets`. */
function pathSecret(steps: unknown[]): string | undefined {
  const [first, second] = steps;
  const rooted = isNode(first) && first.type === 'variable' && first.value === '$';
  const head = rooted ? second : first;
  if (!isNode(head) || head.type !== 'name' || head.value !== 'secrets') return undefined;
  const next = steps[rooted ? 2 : 1];
  if (head.stages !== undefined || head.group !== undefined || head.predicate !== undefined) {
    throw new SecretReferenceError('secrets must be followed by a name: secrets.NAME');
  }
  if (!isNode(next) || next.type !== 'name' || typeof next.value !== 'string') {
    throw new SecretReferenceError('secrets must be followed by a name: secrets.NAME');
  }
  return validName(next.value);
}

function validName(name: string): string {
  if (!SECRET_NAME_PATTERN.test(name)) {
    throw new SecretReferenceError(
      `${JSON.stringify(name)} is not a secret name: use an upper-case letter, then up to 63 upper-case letters, digits or "_"`,
    );
  }
  return name;
}

export class SecretReferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretReferenceError';
  }
}
