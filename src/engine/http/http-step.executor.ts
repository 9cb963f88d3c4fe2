import type { HttpStep } from '../steps/http.step.js';
import type { ExpressionContext } from '../steps/step-handler.interface.js';
import type { ExpressionEvaluator } from '../expression.evaluator.js';
import { SecretReferenceError, secretNamesOfStep, secretNamesOfTemplate } from '../secret-references.js';
import { SecretRedactor } from '../secret.redactor.js';
import { StepFailure } from '../step-failure.error.js';
import { sendRequest, type HttpResponse } from './http-request.sender.js';
import { parseRequestUrl, SsrfGuard, type HostResolver } from './ssrf.guard.js';

export const DEFAULT_HTTP_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 1_048_576;
export const HTTP_USER_AGENT = 'hookrun';

export interface HttpStepOptions {
  /** `host` or `host:port` that may be private (`HTTP_STEP_ALLOWED_HOSTS`); see `SsrfGuardOptions`. */
  allowedHosts?: readonly string[];
  protectedPorts?: readonly number[];
  defaultTimeoutMs?: number;
  maxResponseBytes?: number;
  resolver?: HostResolver;
  /** Where steps that use `secrets.NAME` get the values, read when each attempt starts (so a rotation applies). */
  secrets?: StepSecretSource;
}

/** The current values of the names asked for; a name that does not exist is left out. */
export interface StepSecretSource {
  resolve(names: readonly string[]): Promise<ReadonlyMap<string, string>>;
}

export type HttpStepOutput = HttpResponse;

export interface HttpStepEnvironment {
  evaluator: ExpressionEvaluator;
  context: ExpressionContext;
  signal?: AbortSignal;
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Header values Node would refuse to send: control characters (line breaks above all) and beyond Latin-1. */
const INVALID_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

export class HttpStepExecutor {
  private readonly guard: SsrfGuard;
  private readonly defaultTimeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly secrets: StepSecretSource | undefined;

  constructor(options: HttpStepOptions = {}) {
    this.guard = new SsrfGuard({
      allowedHosts: options.allowedHosts,
      protectedPorts: options.protectedPorts,
      resolver: options.resolver,
    });
    this.defaultTimeoutMs = positiveInteger(options.defaultTimeoutMs, DEFAULT_HTTP_TIMEOUT_MS, 'defaultTimeoutMs');
    this.maxResponseBytes = positiveInteger(options.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES, 'maxResponseBytes');
    this.secrets = options.secrets;
  }

  /**
   * A step that uses secrets renders its request with `secrets` in its context (the values only it names), and
   * what it returns or throws has every occurrence of those values replaced with `[redacted:NAME]`.
   */
  async execute(step: HttpStep, env: HttpStepEnvironment): Promise<{ output: HttpStepOutput }> {
    const names = namesOf(step);
    if (names.length === 0) return this.send(step, env);
    if (env.signal?.aborted) throw cancelled();
    const values = await this.resolveSecrets(names);
    const redaction = { redactor: new SecretRedactor(values) };
    try {
      const context = { ...env.context, secrets: Object.fromEntries(values) };
      const { output } = await this.send(step, { ...env, context }, redaction);
      return { output: redaction.redactor.value(output) };
    } catch (error) {
      throw redaction.redactor.error(error);
    }
  }

  private async resolveSecrets(names: readonly string[]): Promise<Map<string, string>> {
    const found = (await this.secrets?.resolve(names)) ?? new Map<string, string>();
    const missing = names.filter((name) => !found.has(name));
    if (missing.length > 0) {
      const list = missing.map((name) => `"${name}"`).join(', ');
      throw new StepFailure('secret_not_found', `the step uses the secret ${list}, which does not exist`);
    }
    return new Map(names.map((name) => [name, found.get(name) as string]));
  }

  /** `timeoutMs` bounds the exchange, not the expressions, which have the evaluator's own limit. */
  private async send(
    step: HttpStep,
    env: HttpStepEnvironment,
    redaction?: { redactor: SecretRedactor },
  ): Promise<{ output: HttpStepOutput }> {
    const { evaluator, context, signal } = env;
    if (signal?.aborted) throw cancelled();
    const { method } = step.request;
    const url = parseRequestUrl(await evaluator.renderTemplate(step.request.url, context));

    const headers: Record<string, string> = { 'user-agent': HTTP_USER_AGENT };
    const derived: [string, string][] = [];
    for (const [name, template] of Object.entries(step.request.headers ?? {})) {
      const value = await evaluator.renderTemplate(template, context);
      if (INVALID_HEADER_VALUE.test(value)) {
        throw new StepFailure(
          'http_invalid_header',
          `header "${name}" has a character that HTTP does not allow (a line break, a control character or one beyond Latin-1)`,
        );
      }
      headers[name.toLowerCase()] = value;
      // A header computed from a secret without holding it as it is (Basic's base64): echoed back, it is one too.
      const [used] = redaction ? secretNamesOfTemplate(template) : [];
      if (used !== undefined && !redaction?.redactor.finds(value)) derived.push([used, value]);
    }
    if (redaction && derived.length > 0) redaction.redactor = redaction.redactor.with(derived);
    let body: Buffer | undefined;
    if (step.request.body !== undefined) {
      body = Buffer.from(JSON.stringify(await evaluator.evaluate(step.request.body, context)), 'utf8');
      headers['content-type'] ??= 'application/json';
    }
    // The same key on every attempt and every execution of the run, so that the receiver can drop repeats.
    headers['idempotency-key'] = `${context.run.id}:${step.id}`;

    const hostname = url.host;
    const timeoutMs = step.timeoutMs ?? this.defaultTimeoutMs;
    const attempt = new AbortController();
    const timer = setTimeout(() => {
      attempt.abort(
        new StepFailure('http_timeout', `${method} ${hostname} did not answer within ${timeoutMs} ms`, true),
      );
    }, timeoutMs);
    const onCancel = (): void => attempt.abort(cancelled());
    signal?.addEventListener('abort', onCancel, { once: true });
    // The signal may have fired while the expressions were evaluated, before anyone listened.
    if (signal?.aborted) onCancel();
    let response: HttpResponse;
    try {
      const target = await this.guard.vet(url, attempt.signal);
      response = await sendRequest(
        target,
        { method, headers, body },
        { signal: attempt.signal, maxResponseBytes: this.maxResponseBytes },
      );
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onCancel);
    }

    const { status } = response;
    const ok = (status >= 200 && status < 300) || (step.okStatuses?.includes(status) ?? false);
    if (!ok) {
      throw new StepFailure(
        'http_status',
        `${method} ${hostname} answered with status ${status}`,
        isRetryableStatus(status),
      );
    }
    return { output: response };
  }
}

/** A definition stored before secrets existed may use `secrets` in a way validation now refuses. */
function namesOf(step: HttpStep): readonly string[] {
  try {
    return secretNamesOfStep(step);
  } catch (error) {
    if (error instanceof SecretReferenceError) throw new StepFailure('invalid_secret_reference', error.message);
    throw error;
  }
}

function cancelled(): StepFailure {
  return new StepFailure('cancelled', 'the run was cancelled while the step was running');
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`http.${name} must be a positive integer`);
  return value;
}
