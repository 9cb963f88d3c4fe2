import { applyDecorators, type Type } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, ApiResponse, getSchemaPath } from '@nestjs/swagger';

import { ERROR_CODES, type ErrorCode, statusOf } from './error-code.registry.js';

class ValidationDetailDto {
  @ApiProperty({ example: 'name' })
  field: string;

  @ApiProperty({ example: 'name must be shorter than or equal to 200 characters' })
  message: string;
}

class RunEndErrorDto {
  @ApiProperty({ example: 'http_status' })
  code: string;

  @ApiProperty({ example: 'POST https://hooks.example.com/deals answered 500' })
  message: string;

  @ApiProperty({ type: String, nullable: true, example: 'notify' })
  stepId: string | null;
}

class RunEndDetailsDto {
  @ApiProperty({ example: '0193a8f2-6c1d-7e55-8b2a-3c4d5e6f7a8b' })
  runId: string;

  @ApiProperty({ enum: ['failed', 'cancelled'], example: 'failed' })
  status: string;

  @ApiProperty({ type: RunEndErrorDto, nullable: true, description: "The run's `error`" })
  error: RunEndErrorDto | null;
}

@ApiExtraModels(ValidationDetailDto, RunEndDetailsDto)
class ErrorBodyDto {
  @ApiProperty({ example: 401 })
  status: number;

  @ApiProperty({ description: 'Stable snake_case code for programs', example: 'invalid_signature' })
  code: string;

  @ApiProperty({ description: 'For people; never holds secrets', example: 'No signature matches' })
  message: string;

  @ApiProperty({ example: '0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a' })
  requestId: string;

  @ApiPropertyOptional({
    description:
      'Validation errors: each field and what is wrong with it. `run_failed`: the run, how it ended and its error',
    oneOf: [
      { type: 'array', items: { $ref: getSchemaPath(ValidationDetailDto) } },
      { $ref: getSchemaPath(RunEndDetailsDto) },
    ],
  })
  details?: ValidationDetailDto[] | RunEndDetailsDto;
}

export class ErrorResponseDto {
  @ApiProperty({ type: ErrorBodyDto })
  error: ErrorBodyDto;
}

export function ApiErrors(...codes: ErrorCode[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(statusOf(code), [...(byStatus.get(statusOf(code)) ?? []), code]);
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
                {
                  value: { error: { status, code, message: ERROR_CODES[code].example, requestId: EXAMPLE_REQUEST_ID } },
                },
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

/**
 * `{ data: <model> }` (or `{ data: [<model>], nextCursor }` for lists; `noCursor`: an unpaged list; `raw`: the
 * model is the whole body) in the OpenAPI document.
 */
export function ApiData(
  status: number,
  model: Type<unknown>,
  options: { list?: boolean; noCursor?: boolean; raw?: boolean; description?: string } = {},
) {
  const data = options.list ? { type: 'array', items: { $ref: getSchemaPath(model) } } : { $ref: getSchemaPath(model) };
  const properties: Record<string, object> = { data };
  if (options.list && !options.noCursor) properties.nextCursor = { type: 'string', nullable: true, example: null };
  const schema = options.raw
    ? { $ref: getSchemaPath(model) }
    : { type: 'object', required: Object.keys(properties), properties };
  return applyDecorators(
    ApiExtraModels(model, ErrorResponseDto),
    ApiResponse({
      status,
      description: options.description,
      schema,
    }),
  );
}
