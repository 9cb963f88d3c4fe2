import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';

import { isDatabaseUnavailable } from './database-errors.util.js';
import { type AnsweredCode, codeOfHttpStatus, type ErrorCode, statusOf } from './error-code.registry.js';
import {
  DomainError,
  FilterFailedError,
  MethodNotAllowedError,
  NotFoundError,
  RateLimitedError,
  RunFailedError,
  UnavailableError,
  type RunEndDetails,
  ValidationError,
  type ValidationDetail,
} from './domain.error.js';
import { INVALID_UTF8_BODY } from './request-body.util.js';
import { about } from './log.context.js';
import { RequestContext } from './request.context.js';

const WEBHOOK_PATH = '/webhooks/workflows/';

interface ErrorEnvelope {
  error: {
    status: number;
    code: AnsweredCode;
    message: string;
    requestId: string;
    details?: ValidationDetail[] | RunEndDetails;
  };
}

const PARSER_ERRORS: Record<string, { code: ErrorCode; message: string }> = {
  'entity.parse.failed': { code: 'invalid_json', message: 'Body is not valid JSON' },
  [INVALID_UTF8_BODY]: { code: 'invalid_json', message: 'Body is not valid UTF-8' },
  'entity.too.large': { code: 'payload_too_large', message: 'Body is too large' },
  'encoding.unsupported': { code: 'unsupported_media_type', message: 'Unsupported content encoding or charset' },
  'charset.unsupported': { code: 'unsupported_media_type', message: 'Unsupported content encoding or charset' },
  'request.aborted': { code: 'bad_request', message: 'Malformed request' },
  'request.size.invalid': { code: 'bad_request', message: 'Malformed request' },
};

interface Mapped {
  status: number;
  code: AnsweredCode;
  message: string;
  details?: ValidationDetail[] | RunEndDetails;
  retryAfterSeconds?: number;
  allow?: string;
}

/** Anything that is neither a domain error nor an HTTP error is a 500 whose message reveals nothing. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Exceptions');

  private log(mapped: Mapped, exception: unknown, req: Request, requestId: string | undefined): void {
    // A trigger's failing filter is its owner's to fix, not a crash: no stack trace per delivery.
    if (mapped.status === 503 || exception instanceof FilterFailedError) {
      this.logger.warn(
        about({ requestId }, `${req.method} ${req.path} answered ${mapped.status}: ${describe(exception)}`),
      );
    } else {
      this.logger.error(
        about({ requestId }, `${req.method} ${req.path} failed: ${describe(exception)}`),
        exception instanceof Error ? exception.stack : undefined,
      );
    }
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const mapped = this.map(exception, req);
    const context = RequestContext.of(req);
    if (context) {
      context.errorCode = mapped.code;
      if (exception instanceof FilterFailedError) context.errorReason = exception.reason;
    }
    // A run that failed (502) is the workflow's outcome, shown on the run, not a fault of this server.
    if (mapped.status >= 500 && mapped.code !== 'run_failed') this.log(mapped, exception, req, context?.requestId);
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
        requestId: context?.requestId ?? '',
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
      const parser = typeof parserType === 'string' ? PARSER_ERRORS[parserType] : undefined;
      if (parser) {
        const message = parserType === INVALID_UTF8_BODY ? exception.message : parser.message;
        return { status: statusOf(parser.code), code: parser.code, message };
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
      return { status, code: codeOfHttpStatus(status), message: httpMessage(exception) };
    }
    return internal();
  }
}

function mapDomainError(error: DomainError): Mapped {
  const mapped: Mapped = { status: statusOf(error.code), code: error.code, message: error.message };
  if (error instanceof ValidationError || error instanceof RunFailedError) mapped.details = error.details;
  else if (error instanceof MethodNotAllowedError) mapped.allow = error.allowed.join(', ');
  else if (error instanceof RateLimitedError || error instanceof UnavailableError) {
    mapped.retryAfterSeconds = error.retryAfterSeconds;
  }
  return mapped;
}

function internal(): Mapped {
  return { status: 500, code: 'internal_error', message: 'Internal server error' };
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
