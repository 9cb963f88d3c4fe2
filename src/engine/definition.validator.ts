import {
  MAX_BACKOFF_MS,
  MAX_RETRY_ATTEMPTS,
  MAX_RUN_TIMEOUT_MS,
  MAX_STEP_TIMEOUT_MS,
  MAX_STEPS,
  STEP_ID_PATTERN,
  type RetryPolicy,
  type StepDefinition,
  type WorkflowDefinition,
} from './definition.types.js';
import { DefinitionError } from './definition.error.js';
import { FLOW_CONTROL_FIELDS, validateFlowControl } from './flow-control.js';
import { compiles, integerIn, isObject, optional, rejectUnknownKeys } from './definition-fields.util.js';
import { secretReferencesOf } from './secret-references.js';
import { validateNotify } from './notify.js';
import { findStepHandler, stepHandlerOf, STEP_TYPES } from './steps/step.registry.js';

const DEFINITION_KEYS = ['steps', 'output', 'timeoutMs', 'notify', ...FLOW_CONTROL_FIELDS];
const COMMON_STEP_KEYS = ['id', 'type', 'retry', 'timeoutMs'];
const RETRY_KEYS = ['maxAttempts', 'backoffMs'];

/** A clean copy of the definition; anything it cannot use, unknown properties included, is a `DefinitionError`. */
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
  Object.assign(definition, validateFlowControl(raw));
  const notify = validateNotify(raw.notify);
  if (notify !== undefined) definition.notify = notify;
  steps.forEach((step, index) => {
    stepHandlerOf(step).check?.(step, { index, positions, runTimeoutMs: definition.timeoutMs });
  });
  // Refuses misused references here; whether the named secrets exist is the caller's check (`secretReferencesOf`).
  secretReferencesOf(definition);
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
  const handler = typeof raw.type === 'string' ? findStepHandler(raw.type) : undefined;
  if (!handler) {
    throw new DefinitionError(
      `${label}: unknown type ${JSON.stringify(raw.type)} (known types: ${STEP_TYPES.join(', ')})`,
    );
  }
  rejectUnknownKeys(raw, [...COMMON_STEP_KEYS, ...handler.keys], label, handler.noun);

  const step = handler.parse(raw, id, label);
  const retry = optional(raw.retry);
  if (retry !== undefined) step.retry = validateRetry(retry, label);
  const timeoutMs = optional(raw.timeoutMs);
  if (timeoutMs !== undefined) {
    step.timeoutMs = integerIn(timeoutMs, 1, MAX_STEP_TIMEOUT_MS, `${label}: timeoutMs`);
  }
  return step;
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
