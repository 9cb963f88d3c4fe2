import { describe, expect, it } from '@jest/globals';

import { AuthenticationError, ConflictError, NotFoundError } from './domain.error.js';
import { codeOfHttpStatus, ERROR_CODES, statusOf } from './error-code.registry.js';
import { ApiErrors } from './openapi.decorator.js';

describe('ERROR_CODES', () => {
  it('answers each code with the status API.md gives it', () => {
    expect(Object.fromEntries(Object.entries(ERROR_CODES).map(([code, entry]) => [code, entry.status]))).toEqual({
      bad_request: 400,
      validation_failed: 400,
      invalid_json: 400,
      invalid_body: 400,
      invalid_definition: 400,
      unauthorized: 401,
      missing_signature: 401,
      invalid_signature: 401,
      timestamp_out_of_tolerance: 401,
      forbidden: 403,
      not_found: 404,
      workflow_not_found: 404,
      trigger_not_found: 404,
      trigger_not_signable: 409,
      run_not_found: 404,
      api_key_not_found: 404,
      version_not_found: 404,
      notify_endpoint_not_found: 404,
      bulk_action_not_found: 404,
      secret_not_found: 404,
      secret_in_use: 409,
      method_not_allowed: 405,
      request_timeout: 408,
      conflict: 409,
      trigger_exists: 409,
      idempotency_key_reused: 409,
      workflow_disabled: 409,
      run_finished: 409,
      run_not_failed: 409,
      payload_too_large: 413,
      unsupported_media_type: 415,
      rate_limited: 429,
      internal_error: 500,
      filter_failed: 500,
      run_failed: 502,
      unavailable: 503,
    });
  });

  it("gives Nest's and express's HTTP errors one code per status, and http_<status> past the table", () => {
    expect(codeOfHttpStatus(404)).toBe('not_found');
    expect(codeOfHttpStatus(409)).toBe('conflict');
    expect(codeOfHttpStatus(418)).toBe('http_418');
    expect(statusOf('trigger_not_found')).toBe(404);
  });

  it('refuses at compile time a code that is not in the table, or not of the error kind', () => {
    // Never called: what matters is that it does not compile.
    // @ts-expect-error: not a code
    const typo = (): unknown => ApiErrors('typo');
    expect(typo).toBeInstanceOf(Function);
    // @ts-expect-error: a 404 code is no conflict
    expect(new ConflictError('not_found', 'x').code).toBe('not_found');
    // @ts-expect-error: a 409 code is no authentication failure
    expect(new AuthenticationError('run_finished', 'x').code).toBe('run_finished');
    // @ts-expect-error: no `widget_not_found` code
    expect(new NotFoundError('widget').code).toBe('widget_not_found');
    expect(new NotFoundError('workflow', 'w1')).toMatchObject({
      code: 'workflow_not_found',
      message: 'Workflow w1 not found',
    });
  });
});
