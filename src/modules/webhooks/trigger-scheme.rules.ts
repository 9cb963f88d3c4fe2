import { ValidationError } from '../../common/domain.error.js';
import type { SchemeOptions, WebhookScheme } from './verification/webhook-scheme.interface.js';
import { webhookScheme } from './verification/webhook-scheme.registry.js';

/* The schemes' plain Errors (never quoting a secret) as `validation_failed` with the field at fault. */

export function schemeNamed(name: string): WebhookScheme {
  const scheme = webhookScheme(name);
  // The DTO allows only known names and rows are written through it, so this is a server fault.
  if (!scheme) throw new Error(`Unknown webhook scheme "${name.slice(0, 40)}"`);
  return scheme;
}

export function checkedOptions(scheme: WebhookScheme, raw: unknown): SchemeOptions {
  try {
    return scheme.validateOptions(raw);
  } catch (error) {
    throw invalid('options', (error as Error).message);
  }
}

export function checkSecret(scheme: WebhookScheme, secret: string): void {
  try {
    scheme.validateSecret(secret);
  } catch (error) {
    throw invalid('secret', (error as Error).message);
  }
}

export function givenOrGeneratedSecret(scheme: WebhookScheme, given: string | undefined): string | undefined {
  if (given !== undefined) {
    checkSecret(scheme, given);
    return given;
  }
  if (!scheme.generatesSecret) {
    throw invalid('secret', `The ${scheme.name} scheme needs the secret the sender signs with: give it as secret`);
  }
  return undefined;
}

/** Whether a stored secret can verify under the scheme, without saying why (the reason could quote it). */
export function secretFits(scheme: WebhookScheme, secret: string): boolean {
  try {
    scheme.validateSecret(secret);
    return true;
  } catch {
    return false;
  }
}

export function invalid(field: string, message: string): ValidationError {
  return new ValidationError(`${field}: ${message}`, [{ field, message }]);
}
