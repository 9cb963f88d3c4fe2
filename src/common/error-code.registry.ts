// `http`: the code of Nest's and express's own HTTP errors of that status.
export const ERROR_CODES = {
  bad_request: { status: 400, http: true, example: 'Malformed request' },
  validation_failed: { status: 400, example: 'name: name should not be empty' },
  invalid_json: { status: 400, example: 'Body is not valid JSON' },
  invalid_body: {
    status: 400,
    example:
      'Body is JSON sent as a form (application/x-www-form-urlencoded): send it with Content-Type: application/json',
  },
  invalid_definition: { status: 400, example: 'step "gate": then refers to unknown step "nope"' },
  unauthorized: { status: 401, http: true, example: 'Missing or unknown API key' },
  missing_signature: { status: 401, example: 'Signature headers are missing' },
  invalid_signature: { status: 401, example: 'No signature matches' },
  timestamp_out_of_tolerance: { status: 401, example: 'Timestamp is outside the tolerance' },
  forbidden: { status: 403, http: true, example: 'Forbidden' },
  not_found: { status: 404, http: true, example: 'Cannot GET /v1/nothing' },
  workflow_not_found: { status: 404, example: 'Workflow 0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a not found' },
  trigger_not_found: { status: 404, example: 'Webhook trigger not found' },
  run_not_found: { status: 404, example: 'Run 0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a not found' },
  api_key_not_found: { status: 404, example: 'Api key 0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a not found' },
  version_not_found: { status: 404, example: 'Version 7 not found' },
  notify_endpoint_not_found: {
    status: 404,
    example: 'Notify endpoint 0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a not found',
  },
  bulk_action_not_found: { status: 404, example: 'Bulk action 0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a not found' },
  secret_not_found: { status: 404, example: 'Secret CRM_TOKEN not found' },
  method_not_allowed: {
    status: 405,
    http: true,
    example: 'Webhooks are delivered with POST: this URL takes signed POST requests only',
  },
  request_timeout: { status: 408, http: true, example: 'Request timeout' },
  conflict: { status: 409, http: true, example: 'Conflict' },
  trigger_exists: { status: 409, example: 'This workflow already has a webhook trigger' },
  workflow_disabled: { status: 409, example: 'Workflow is disabled' },
  secret_in_use: {
    status: 409,
    example:
      'Secret CRM_TOKEN is used by workflow "Sync deals" (0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a): remove it from their definitions first',
  },
  run_finished: { status: 409, example: 'Run is already completed' },
  run_not_failed: { status: 409, example: 'Only failed runs can be retried' },
  idempotency_key_reused: {
    status: 409,
    example: 'This Idempotency-Key was used with another request: send a new key for a new request',
  },
  trigger_not_signable: {
    status: 409,
    example: "This trigger holds only the sender's public key (whpk_): the server cannot sign a test delivery for it",
  },
  payload_too_large: { status: 413, http: true, example: 'Body is larger than 1048576 bytes' },
  unsupported_media_type: {
    status: 415,
    http: true,
    example: 'Content type text/plain is not accepted: send Content-Type: application/json',
  },
  rate_limited: { status: 429, http: true, example: 'Too many requests; retry later' },
  internal_error: { status: 500, example: 'Internal server error' },
  filter_failed: {
    status: 500,
    example: "The trigger's filter failed to evaluate; the delivery log says why. Retry once it is corrected",
  },
  run_failed: {
    status: 502,
    example: 'Run 0193a8f2-6c1d-7e55-8b2a-3c4d5e6f7a8b failed: POST https://hooks.example.com/deals answered 500',
  },
  unavailable: { status: 503, http: true, example: 'Service temporarily unavailable; retry later' },
} as const satisfies Record<string, { status: number; http?: true; example: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export type CodeOfStatus<S extends number> = {
  [C in ErrorCode]: (typeof ERROR_CODES)[C]['status'] extends S ? C : never;
}[ErrorCode];

export type AnsweredCode = ErrorCode | `http_${number}`;

const HTTP_CODES = new Map<number, ErrorCode>();
for (const [code, entry] of Object.entries(ERROR_CODES) as [ErrorCode, { status: number; http?: true }][]) {
  if (entry.http) HTTP_CODES.set(entry.status, code);
}

export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

export function codeOfHttpStatus(status: number): AnsweredCode {
  return HTTP_CODES.get(status) ?? `http_${status}`;
}
