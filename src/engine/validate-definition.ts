import {
  DEFAULT_RUN_TIMEOUT_MS,
  ERROR_CODE_PATTERN,
  HTTP_HEADER_NAME_PATTERN,
  HTTP_METHODS,
  MAX_BACKOFF_MS,
  MAX_DELAY_MS,
  MAX_HTTP_HEADERS,
  MAX_OK_STATUSES,
  MAX_RETRY_ATTEMPTS,
  MAX_RUN_TIMEOUT_MS,
  MAX_STEP_TIMEOUT_MS,
  MAX_STEPS,
  RESERVED_HTTP_HEADERS,
  STEP_ID_PATTERN,
  STEP_TYPES,
  type ConditionStep,
  type DelayStep,
  type FailStep,
  type HttpMethod,
  type HttpRequestDefinition,
  type HttpStep,
  type RetryPolicy,
  type StepDefinition,
  type StepType,
  type TransformStep,
  type WorkflowDefinition,
} from './definition.js';
import { DefinitionError } from './definition-error.js';
import { ExpressionError, validateExpression, validateTemplate } from './expression.js';
import { parseTemplate } from './template.js';

type JsonObject = Record<string, unknown>;

const DEFINITION_KEYS = ['steps', 'output', 'timeoutMs'];
const COMMON_STEP_KEYS = ['id', 'type', 'retry', 'timeoutMs'];
const STEP_KEYS: Record<StepType, readonly string[]> = {
  transform: ['expression'],
  condition: ['expression', 'then', 'else'],
  fail: ['message', 'code'],
  http: ['request', 'okStatuses'],
  delay: ['durationMs'],
};
const RETRY_KEYS = ['maxAttempts', 'backoffMs'];
const REQUEST_KEYS = ['method', 'url', 'headers', 'body'];
/** What Node refuses in a header value: control characters (line breaks above all) and beyond Latin-1. */
const INVALID_HEADER_TEXT = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Checks a definition received as JSON and returns a clean copy of it. Anything it cannot use is refused, unknown
 * properties included, with a `DefinitionError` naming the step and the problem.
 */
export function validateDefinition(raw: unknown): WorkflowDefinition {
  if (!isObject(raw)) throw new DefinitionError('definition must be an object');
  rejectUnknownKeys(raw, DEFINITION_KEYS, 'definition');
  if (raw.steps === undefined) throw new DefinitionError('definition: missing steps');
  if (!Array.isArray(raw.steps)) throw new DefinitionError('steps must be an array');
  if (raw.steps.length === 0) throw new DefinitionError('steps must not be empty');
  if (raw.steps.length > MAX_STEPS) {
    throw new DefinitionError(`steps: at most ${MAX_STEPS} steps are allowed, got ${raw.steps.length}`);
  }

  const positions = new Map<string, number>();
  const steps = raw.steps.map((rawStep: unknown, index) => {
    const step = validateStep(rawStep, index, positions);
    positions.set(step.id, index);
    return step;
  });
  steps.forEach((step, index) => {
    if (step.type === 'condition') {
      checkJump(step, 'then', index, positions);
      checkJump(step, 'else', index, positions);
    }
  });

  const definition: WorkflowDefinition = { steps };
  const output = optional(raw.output);
  if (output !== undefined) {
    if (typeof output !== 'string') throw new DefinitionError('output must be a string (a JSONata expression)');
    compiles(output, 'output: expression');
    definition.output = output;
  }
  const timeoutMs = optional(raw.timeoutMs);
  if (timeoutMs !== undefined) {
    definition.timeoutMs = integerIn(timeoutMs, 1, MAX_RUN_TIMEOUT_MS, 'timeoutMs', '(7 days)');
  }
  for (const step of steps) {
    if (step.type === 'delay') checkDelayFitsRun(step, definition.timeoutMs);
  }
  return definition;
}

function validateStep(raw: unknown, index: number, positions: Map<string, number>): StepDefinition {
  const at = `steps[${index}]`;
  if (!isObject(raw)) throw new DefinitionError(`${at}: must be an object`);
  const id = validateId(raw.id, at);
  const earlier = positions.get(id);
  if (earlier !== undefined) throw new DefinitionError(`step "${id}": duplicate id (also steps[${earlier}])`);

  const label = `step "${id}"`;
  if (raw.type === undefined) throw new DefinitionError(`${label}: missing type`);
  if (typeof raw.type !== 'string' || !isStepType(raw.type)) {
    throw new DefinitionError(
      `${label}: unknown type ${JSON.stringify(raw.type)} (known types: ${STEP_TYPES.join(', ')})`,
    );
  }
  const type = raw.type;
  rejectUnknownKeys(
    raw,
    [...COMMON_STEP_KEYS, ...STEP_KEYS[type]],
    label,
    `${type === 'http' ? 'an' : 'a'} ${type} step`,
  );

  const step = buildStep(type, id, raw, label);
  const retry = optional(raw.retry);
  if (retry !== undefined) step.retry = validateRetry(retry, label);
  const timeoutMs = optional(raw.timeoutMs);
  if (timeoutMs !== undefined) {
    step.timeoutMs = integerIn(timeoutMs, 1, MAX_STEP_TIMEOUT_MS, `${label}: timeoutMs`);
  }
  return step;
}

function buildStep(type: StepType, id: string, raw: JsonObject, label: string): StepDefinition {
  switch (type) {
    case 'transform': {
      const step: TransformStep = { id, type, expression: requiredExpression(raw, label) };
      return step;
    }
    case 'condition': {
      const step: ConditionStep = {
        id,
        type,
        expression: requiredExpression(raw, label),
        then: jumpTarget(raw, 'then', label),
        else: jumpTarget(raw, 'else', label),
      };
      return step;
    }
    case 'fail': {
      const message = requiredString(raw, 'message', label);
      if (message.trim() === '') throw new DefinitionError(`${label}: message must not be empty`);
      compiles(message, `${label}: message`, true);
      const step: FailStep = { id, type, message };
      const code = optional(raw.code);
      if (code !== undefined) {
        if (typeof code !== 'string' || !ERROR_CODE_PATTERN.test(code)) {
          throw new DefinitionError(
            `${label}: code ${JSON.stringify(code)} must be snake_case (${String(ERROR_CODE_PATTERN)})`,
          );
        }
        step.code = code;
      }
      return step;
    }
    case 'http': {
      const step: HttpStep = { id, type, request: validateRequest(raw.request, label) };
      const okStatuses = optional(raw.okStatuses);
      if (okStatuses !== undefined) step.okStatuses = validateOkStatuses(okStatuses, label);
      return step;
    }
    case 'delay': {
      if (raw.durationMs === undefined || raw.durationMs === null) {
        throw new DefinitionError(`${label}: missing durationMs`);
      }
      const step: DelayStep = {
        id,
        type,
        durationMs: integerIn(raw.durationMs, 1, MAX_DELAY_MS, `${label}: durationMs`, '(30 days)'),
      };
      return step;
    }
  }
}

function validateRequest(raw: unknown, label: string): HttpRequestDefinition {
  if (raw === undefined || raw === null) throw new DefinitionError(`${label}: missing request`);
  if (!isObject(raw)) {
    throw new DefinitionError(`${label}: request must be an object { method, url, headers?, body? }`);
  }
  rejectUnknownKeys(raw, REQUEST_KEYS, `${label}: request`);

  const method = raw.method;
  if (method === undefined || method === null) throw new DefinitionError(`${label}: missing request.method`);
  if (typeof method !== 'string' || !(HTTP_METHODS as readonly string[]).includes(method)) {
    throw new DefinitionError(
      `${label}: request.method must be one of ${HTTP_METHODS.join(', ')}, got ${JSON.stringify(method)}`,
    );
  }
  const request: HttpRequestDefinition = { method: method as HttpMethod, url: validateUrl(raw.url, label) };

  const headers = optional(raw.headers);
  if (headers !== undefined) request.headers = validateHeaders(headers, label);
  const body = optional(raw.body);
  if (body !== undefined) {
    if (typeof body !== 'string')
      throw new DefinitionError(`${label}: request.body must be a string (a JSONata expression)`);
    if (request.method === 'GET' || request.method === 'HEAD') {
      throw new DefinitionError(`${label}: request.body is not allowed with ${request.method}`);
    }
    compiles(body, `${label}: request.body`);
    request.body = body;
  }
  return request;
}

/** A template is checked as far as its fixed text goes: the scheme when it starts the URL, all of it when static. */
function validateUrl(url: unknown, label: string): string {
  const what = `${label}: request.url`;
  if (url === undefined || url === null) throw new DefinitionError(`${label}: missing request.url`);
  if (typeof url !== 'string') throw new DefinitionError(`${what} must be a string`);
  if (url.trim() === '') throw new DefinitionError(`${what} must not be empty`);
  compiles(url, what, true);
  const parts = parseTemplate(url);
  const [first] = parts;
  const leading = 'text' in first ? first.text : '';
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(leading)?.[1].toLowerCase();
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') {
    throw new DefinitionError(`${what} must use http: or https:, not "${scheme}:"`);
  }
  if (parts.length === 1 && 'text' in first) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new DefinitionError(`${what} is not a valid absolute URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new DefinitionError(`${what} must use http: or https:, not ${JSON.stringify(parsed.protocol)}`);
    }
    if (parsed.username !== '' || parsed.password !== '') {
      throw new DefinitionError(`${what} must not contain credentials (user:password@); send them in a header`);
    }
  }
  return url;
}

function validateHeaders(raw: unknown, label: string): Record<string, string> {
  if (!isObject(raw))
    throw new DefinitionError(`${label}: request.headers must be an object of header names to strings`);
  const entries = Object.entries(raw);
  if (entries.length > MAX_HTTP_HEADERS) {
    throw new DefinitionError(
      `${label}: request.headers: at most ${MAX_HTTP_HEADERS} headers are allowed, got ${entries.length}`,
    );
  }
  const seen = new Map<string, string>();
  for (const [name, value] of entries) {
    const what = `${label}: request.headers[${JSON.stringify(name)}]`;
    if (!HTTP_HEADER_NAME_PATTERN.test(name)) {
      throw new DefinitionError(`${label}: request.headers: ${JSON.stringify(name)} is not a valid header name`);
    }
    const lower = name.toLowerCase();
    if (RESERVED_HTTP_HEADERS.includes(lower)) {
      throw new DefinitionError(`${label}: request.headers: ${JSON.stringify(name)} is set by hookrun, not by a step`);
    }
    const earlier = seen.get(lower);
    if (earlier !== undefined) {
      throw new DefinitionError(
        `${label}: request.headers: ${JSON.stringify(name)} and ${JSON.stringify(earlier)} are the same header (names are case-insensitive)`,
      );
    }
    seen.set(lower, name);
    if (typeof value !== 'string') throw new DefinitionError(`${what} must be a string`);
    compiles(value, what, true);
    for (const part of parseTemplate(value)) {
      if ('text' in part && INVALID_HEADER_TEXT.test(part.text)) {
        throw new DefinitionError(
          `${what} has a character that HTTP does not allow (a line break, a control character or one beyond Latin-1)`,
        );
      }
    }
  }
  // fromEntries defines keys as data: a header named "__proto__" must not become the copy's prototype.
  return Object.fromEntries(entries as [string, string][]);
}

function validateOkStatuses(raw: unknown, label: string): number[] {
  if (!Array.isArray(raw)) throw new DefinitionError(`${label}: okStatuses must be an array of HTTP status codes`);
  if (raw.length > MAX_OK_STATUSES) {
    throw new DefinitionError(
      `${label}: okStatuses: at most ${MAX_OK_STATUSES} status codes are allowed, got ${raw.length}`,
    );
  }
  const statuses: number[] = [];
  raw.forEach((status: unknown, index) => {
    const value = integerIn(status, 100, 599, `${label}: okStatuses[${index}]`);
    if (statuses.includes(value)) throw new DefinitionError(`${label}: okStatuses: ${value} is listed twice`);
    statuses.push(value);
  });
  return statuses;
}

/** A delay longer than the whole run could never end in a completed run. */
function checkDelayFitsRun(step: DelayStep, runTimeoutMs: number | undefined): void {
  const limit = runTimeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
  if (step.durationMs < limit) return;
  const which = runTimeoutMs === undefined ? `the default run timeoutMs (${limit})` : `the run's timeoutMs (${limit})`;
  throw new DefinitionError(
    `step "${step.id}": durationMs ${step.durationMs} must be less than ${which}: raise the definition's timeoutMs`,
  );
}

function validateId(id: unknown, at: string): string {
  if (id === undefined || id === null) throw new DefinitionError(`${at}: missing id`);
  if (typeof id !== 'string') throw new DefinitionError(`${at}: id must be a string`);
  if (!STEP_ID_PATTERN.test(id)) {
    throw new DefinitionError(
      `${at}: id ${JSON.stringify(id)} is not valid: use 1 to 64 letters, digits, "_" or "-", starting with a letter or "_"`,
    );
  }
  // Ids become keys of plain objects (the JSONata context, checkpoints) where this one would set the prototype.
  if (id === '__proto__') throw new DefinitionError(`${at}: id "__proto__" is reserved`);
  return id;
}

function requiredString(raw: JsonObject, key: string, label: string): string {
  const value = raw[key];
  if (value === undefined || value === null) throw new DefinitionError(`${label}: missing ${key}`);
  if (typeof value !== 'string') throw new DefinitionError(`${label}: ${key} must be a string`);
  return value;
}

function requiredExpression(raw: JsonObject, label: string): string {
  const expression = requiredString(raw, 'expression', label);
  compiles(expression, `${label}: expression`);
  return expression;
}

function compiles(source: string, what: string, template = false): void {
  try {
    if (template) validateTemplate(source);
    else validateExpression(source);
  } catch (err) {
    if (err instanceof ExpressionError) throw new DefinitionError(`${what} does not compile: ${err.message}`);
    throw err;
  }
}

function jumpTarget(raw: JsonObject, key: 'then' | 'else', label: string): string | null {
  if (raw[key] === undefined)
    throw new DefinitionError(`${label}: missing ${key} (a later step's id, or null to end the run)`);
  const target = raw[key];
  if (target !== null && typeof target !== 'string') {
    throw new DefinitionError(`${label}: ${key} must be a step id or null`);
  }
  return target;
}

function checkJump(step: ConditionStep, key: 'then' | 'else', index: number, positions: Map<string, number>): void {
  const target = step[key];
  if (target === null) return;
  const label = `step "${step.id}"`;
  const position = positions.get(target);
  if (position === undefined) throw new DefinitionError(`${label}: ${key} refers to unknown step "${target}"`);
  if (position === index) throw new DefinitionError(`${label}: ${key} refers to the step itself`);
  if (position < index) {
    throw new DefinitionError(
      `${label}: ${key} refers to earlier step "${target}" (only a later step or null is allowed)`,
    );
  }
}

function validateRetry(retry: unknown, label: string): RetryPolicy {
  if (!isObject(retry)) throw new DefinitionError(`${label}: retry must be an object { maxAttempts, backoffMs? }`);
  rejectUnknownKeys(retry, RETRY_KEYS, `${label}: retry`);
  if (optional(retry.maxAttempts) === undefined) throw new DefinitionError(`${label}: missing retry.maxAttempts`);
  const policy: RetryPolicy = {
    maxAttempts: integerIn(retry.maxAttempts, 1, MAX_RETRY_ATTEMPTS, `${label}: retry.maxAttempts`),
  };
  // Left out when not given, as the run's timeoutMs is: the stored definition stays what the user wrote.
  const backoffMs = optional(retry.backoffMs);
  if (backoffMs !== undefined) policy.backoffMs = integerIn(backoffMs, 0, MAX_BACKOFF_MS, `${label}: retry.backoffMs`);
  return policy;
}

function integerIn(value: unknown, min: number, max: number, what: string, note?: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = `an integer from ${min} to ${max}${note ? ` ${note}` : ''}`;
    throw new DefinitionError(`${what} must be ${range}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function rejectUnknownKeys(raw: JsonObject, known: readonly string[], label: string, kind?: string): void {
  const unknown = Object.keys(raw).filter((key) => !known.includes(key));
  if (unknown.length === 0) return;
  const names = unknown.map((key) => JSON.stringify(key)).join(', ');
  const noun = unknown.length === 1 ? 'property' : 'properties';
  throw new DefinitionError(`${label}: unknown ${noun} ${names}${kind ? ` for ${kind}` : ''}`);
}

/** `null` stands for "not set" in optional fields, as clients often send it. */
function optional(value: unknown): unknown {
  return value === null ? undefined : value;
}

function isStepType(type: string): type is StepType {
  return (STEP_TYPES as readonly string[]).includes(type);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
