import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';

import { isDatabaseUnavailable } from './database-errors.js';
import type { ErrorEnvelope } from './error-envelope.js';
import {
  AuthenticationError,
  ConflictError,
  DomainError,
  InvalidInputError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  UnavailableError,
  UnsupportedMediaTypeError,
  ValidationError,
} from './errors.js';
import { INVALID_UTF8_BODY } from './request-body.js';

const WEBHOOK_PATH = '/webhooks/workflows/';

const CODE_BY_HTTP_STATUS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

/** body-parser's error types (and our own verify step's), mapped to the contract's codes. */
const CODE_BY_PARSER_ERROR: Record<string, [number, string]> = {
  'entity.parse.failed': [400, 'invalid_json'],
  [INVALID_UTF8_BODY]: [400, 'invalid_json'],
  'entity.too.large': [413, 'payload_too_large'],
  'encoding.unsupported': [415, 'unsupported_media_type'],
  'charset.unsupported': [415, 'unsupported_media_type'],
  'request.aborted': [400, 'bad_request'],
  'request.size.invalid': [400, 'bad_request'],
};

interface Mapped {
  status: number;
  code: string;
  message: string;
  details?: ErrorEnvelope['error']['details'];
  retryAfterSeconds?: number;
  allow?: string;
}

/**
 * The one place where errors become HTTP answers: domain errors by kind, Nest's and express's HTTP
 * errors by status, and anything else as a 500 whose message reveals nothing (it is logged instead).
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Exceptions');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const mapped = this.map(exception, req);
    // For the webhook delivery log, which records each answer's code once it is sent.
    res.locals.errorCode = mapped.code;
    if (mapped.status === 503) {
      this.logger.warn(`${req.method} ${req.path} answered 503: ${describe(exception)}`);
    } else if (mapped.status >= 500) {
      this.logger.error(
        `${req.method} ${req.path} failed: ${describe(exception)}`,
        exception instanceof Error ? exception.stack : undefined,
      );
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    if (mapped.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(mapped.retryAfterSeconds));
    if (mapped.allow !== undefined) res.setHeader('Allow', mapped.allow);
    const body: ErrorEnvelope = {
      error: {
        status: mapped.status,
        code: mapped.code,
        message: mapped.message,
        requestId: req.requestId ?? '',
        ...(mapped.details ? { details: mapped.details } : {}),
      },
    };
    res.status(mapped.status).json(body);
  }

  private map(exception: unknown, req: Request): Mapped {
    if (exception instanceof DomainError) return mapDomainError(exception);
    if (isDatabaseUnavailable(exception)) return mapDomainError(new UnavailableError());
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const parserType = (exception.cause as { type?: unknown } | undefined)?.type;
      const parser = typeof parserType === 'string' ? CODE_BY_PARSER_ERROR[parserType] : undefined;
      if (parser) {
        const message = parserType === INVALID_UTF8_BODY ? exception.message : parserMessage(parser[1]);
        return { status: parser[0], code: parser[1], message };
      }
      // express could not decode a path parameter (`%FF`): such a path names nothing.
      if (exception.cause instanceof URIError) {
        return req.path.startsWith(WEBHOOK_PATH)
          ? mapDomainError(new NotFoundError('trigger', undefined, 'trigger_not_found'))
          : { status: 404, code: 'not_found', message: `Cannot ${req.method} ${req.path}` };
      }
      if (exception.cause instanceof SyntaxError) {
        return { status: 400, code: 'invalid_json', message: 'Body is not valid JSON' };
      }
      if (status >= 500) return internal();
      return { status, code: CODE_BY_HTTP_STATUS[status] ?? `http_${status}`, message: httpMessage(exception) };
    }
    return internal();
  }
}

function mapDomainError(error: DomainError): Mapped {
  const base = { code: error.code, message: error.message };
  if (error instanceof ValidationError) return { ...base, status: 400, details: error.details };
  if (error instanceof InvalidInputError) return { ...base, status: 400 };
  if (error instanceof AuthenticationError) return { ...base, status: 401 };
  if (error instanceof NotFoundError) return { ...base, status: 404 };
  if (error instanceof MethodNotAllowedError) return { ...base, status: 405, allow: error.allowed.join(', ') };
  if (error instanceof ConflictError) return { ...base, status: 409 };
  if (error instanceof PayloadTooLargeError) return { ...base, status: 413 };
  if (error instanceof UnsupportedMediaTypeError) return { ...base, status: 415 };
  if (error instanceof RateLimitedError) return { ...base, status: 429, retryAfterSeconds: error.retryAfterSeconds };
  if (error instanceof UnavailableError) return { ...base, status: 503, retryAfterSeconds: error.retryAfterSeconds };
  return internal();
}

function internal(): Mapped {
  return { status: 500, code: 'internal_error', message: 'Internal server error' };
}

function parserMessage(code: string): string {
  switch (code) {
    case 'invalid_json':
      return 'Body is not valid JSON';
    case 'payload_too_large':
      return 'Body is too large';
    case 'unsupported_media_type':
      return 'Unsupported content encoding or charset';
    default:
      return 'Malformed request';
  }
}

function httpMessage(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.join('; ');
  return exception.message;
}

function describe(exception: unknown): string {
  return exception instanceof Error ? `${exception.name}: ${exception.message}` : String(exception);
}
