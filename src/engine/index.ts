export * from './definition.types.js';
export { DefinitionError } from './definition.error.js';
export { validateDefinition } from './definition.validator.js';
export * from './flow-control.js';
export * from './notify.js';
export {
  DEFAULT_EXPRESSION_CACHE_SIZE,
  DEFAULT_EXPRESSION_MAX_DEPTH,
  DEFAULT_EXPRESSION_THREADS,
  DEFAULT_EXPRESSION_TIMEOUT_MS,
  MAX_EXPRESSION_TIMEOUT_MS,
  ExpressionError,
  ExpressionEvaluator,
  validateExpression,
  validateTemplate,
  type CompiledExpression,
  type ExpressionErrorCode,
  type ExpressionEvaluatorOptions,
} from './expression.evaluator.js';
export {
  SECRET_NAME_PATTERN,
  secretNamesOfStep,
  secretReferencesOf,
  type SecretReference,
} from './secret-references.js';
export { redactionMark, SecretRedactor } from './secret.redactor.js';
export { StepFailure } from './step-failure.error.js';
export { type ExpressionContext } from './steps/step-handler.interface.js';
export { stepHasSideEffects } from './steps/step.registry.js';
export {
  DEFAULT_HTTP_TIMEOUT_MS,
  DEFAULT_MAX_RESPONSE_BYTES,
  HTTP_USER_AGENT,
  type HttpStepOptions,
  type HttpStepOutput,
  type StepSecretSource,
} from './http/http-step.executor.js';
export { sendRequest, type HttpResponse, type OutgoingRequest } from './http/http-request.sender.js';
export {
  parseAllowedHost,
  parseRequestUrl,
  SsrfGuard,
  systemResolver,
  type AllowedHost,
  type HostResolver,
  type ResolvedAddress,
  type SsrfGuardOptions,
  type VettedTarget,
} from './http/ssrf.guard.js';
export { addressRestriction, type AddressRestriction } from './http/ip-address.parser.js';
export {
  WorkflowEngine,
  type Checkpoint,
  type EngineHooks,
  type RunInfo,
  type RunOutcome,
  type RunParams,
  type StepError,
  type StepResult,
  type WaitingStepResult,
  type WorkflowEngineOptions,
} from './workflow.engine.js';
