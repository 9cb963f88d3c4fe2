import { applyDecorators, type Type } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, ApiResponse, getSchemaPath } from '@nestjs/swagger';

export class ValidationDetailDto {
  @ApiProperty({ example: 'name' })
  field: string;

  @ApiProperty({ example: 'name must be shorter than or equal to 200 characters' })
  message: string;
}

export class ErrorBodyDto {
  @ApiProperty({ example: 401 })
  status: number;

  @ApiProperty({ description: 'Stable snake_case code for programs', example: 'invalid_signature' })
  code: string;

  @ApiProperty({ description: 'For people; never holds secrets', example: 'No signature matches' })
  message: string;

  @ApiProperty({ example: '0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a' })
  requestId: string;

  @ApiPropertyOptional({ type: [ValidationDetailDto], description: 'Present on validation errors' })
  details?: ValidationDetailDto[];
}

export class ErrorResponseDto {
  @ApiProperty({ type: ErrorBodyDto })
  error: ErrorBodyDto;
}

/** Every error code an endpoint can answer, by status, so that the OpenAPI document lists them all. */
const ERROR_MESSAGES: Record<string, string> = {
  unauthorized: 'Missing or unknown API key',
  validation_failed: 'name: name should not be empty',
  invalid_json: 'Body is not valid JSON',
  invalid_body:
    'Body is JSON sent as a form (application/x-www-form-urlencoded): send it with Content-Type: application/json',
  invalid_definition: 'step "gate": then refers to unknown step "nope"',
  not_found: 'Cannot GET /v1/nothing',
  workflow_not_found: 'Workflow 0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a not found',
  trigger_not_found: 'Webhook trigger not found',
  run_not_found: 'Run 0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a not found',
  api_key_not_found: 'Api key 0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a not found',
  version_not_found: 'Version 7 not found',
  method_not_allowed: 'Webhooks are delivered with POST: this URL takes signed POST requests only',
  trigger_exists: 'This workflow already has a webhook trigger',
  workflow_disabled: 'Workflow is disabled',
  run_finished: 'Run is already completed',
  run_not_failed: 'Only failed runs can be retried',
  missing_signature: 'Signature headers are missing',
  invalid_signature: 'No signature matches',
  timestamp_out_of_tolerance: 'Timestamp is outside the tolerance',
  payload_too_large: 'Body is larger than 1048576 bytes',
  unsupported_media_type: 'Content type text/plain is not accepted: send Content-Type: application/json',
  rate_limited: 'Too many requests; retry later',
  unavailable: 'Service temporarily unavailable; retry later',
};

const STATUS_OF: Record<string, number> = {
  unauthorized: 401,
  missing_signature: 401,
  invalid_signature: 401,
  timestamp_out_of_tolerance: 401,
  validation_failed: 400,
  invalid_json: 400,
  invalid_body: 400,
  invalid_definition: 400,
  not_found: 404,
  workflow_not_found: 404,
  trigger_not_found: 404,
  run_not_found: 404,
  api_key_not_found: 404,
  version_not_found: 404,
  method_not_allowed: 405,
  trigger_exists: 409,
  workflow_disabled: 409,
  run_finished: 409,
  run_not_failed: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  unavailable: 503,
};

export type ErrorCode = keyof typeof STATUS_OF;

export function ApiErrors(...codes: ErrorCode[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, string[]>();
  for (const code of codes) byStatus.set(STATUS_OF[code], [...(byStatus.get(STATUS_OF[code]) ?? []), code]);
  return applyDecorators(
    ...[...byStatus].map(([status, group]) =>
      ApiResponse({
        status,
        description: group.map((c) => `\`${c}\``).join(', '),
        ...(status === 405 ? { headers: ALLOW_HEADER } : {}),
        content: {
          'application/json': {
            schema: { $ref: getSchemaPath(ErrorResponseDto) },
            examples: Object.fromEntries(
              group.map((code) => [
                code,
                { value: { error: { status, code, message: ERROR_MESSAGES[code], requestId: EXAMPLE_REQUEST_ID } } },
              ]),
            ),
          },
        },
      }),
    ),
  );
}

const EXAMPLE_REQUEST_ID = '0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a';

const ALLOW_HEADER = {
  Allow: { description: 'The methods this path takes', schema: { type: 'string', example: 'POST' } },
};

/** `{ data: <model> }` (or `{ data: [<model>], nextCursor }` for lists) in the OpenAPI document. */
export function ApiData(status: number, model: Type<unknown>, options: { list?: boolean; description?: string } = {}) {
  const data = options.list ? { type: 'array', items: { $ref: getSchemaPath(model) } } : { $ref: getSchemaPath(model) };
  const properties: Record<string, object> = { data };
  if (options.list) properties.nextCursor = { type: 'string', nullable: true, example: null };
  return applyDecorators(
    ApiExtraModels(model, ErrorResponseDto),
    ApiResponse({
      status,
      description: options.description,
      schema: { type: 'object', required: Object.keys(properties), properties },
    }),
  );
}
