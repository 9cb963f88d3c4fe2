import type { NotificationEvent, NotificationAttempt } from '../notification-events.repository.js';
import type { NotifyEndpoint } from '../notify-endpoints.repository.js';

export class NotifyEndpointResponse {
  /** @example "0193a8f2-7d2e-7f01-9b3c-4d5e6f708192" */
  id: string;
  /** @example "https://alerts.example.com/hookrun" */
  url: string;
  /** @example ["run.failed", "run.cancelled"] */
  events: string[];
  /** @example "2026-11-27T10:00:00.000Z" */
  createdAt: string;
  /** When its signing secret was made (at creation or the last rotation). @example "2026-11-27T10:00:00.000Z" */
  secretRotatedAt: string;
}

export class RotatedNotifySecretResponse extends NotifyEndpointResponse {
  /**
   * The new signing secret, shown this once: every attempt from now on is signed with it (the old one no more).
   * @example "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
   */
  secret: string;
}

export class NotificationAttemptResponse {
  /** @example "2026-11-27T10:00:01.250Z" */
  attemptedAt: string;
  /** @example 84 */
  durationMs: number;
  /** The receiver's HTTP status; `null` when there was no answer (refused, timed out, unreachable). @example 500 */
  statusCode: number | null;
  /** `null` when delivered; `http_status`, `http_timeout`, `http_error`, `ssrf_blocked`... @example "http_status" */
  errorCode: string | null;
  /** @example "the endpoint answered with status 500" */
  error: string | null;
  /** @example false */
  delivered: boolean;
}

export class NotificationEventResponse {
  /** The event's id: the `webhook-id` header of every attempt. @example "9f5c1b7e-3a2d-4c8b-9e1f-2a3b4c5d6e7f" */
  id: string;
  /** @example "run.failed" */
  type: string;
  /** `pending` (retries to come), `delivered` (a 2xx answer) or `failed` (gave up). @example "delivered" */
  status: string;
  /** @example "0193a8f2-7d2e-7f01-9b3c-4d5e6f708192" */
  endpointId: string;
  /** @example "https://alerts.example.com/hookrun" */
  url: string;
  /** When the next attempt is due; `null` unless pending. @example null */
  nextAttemptAt: string | null;
  /** When the run ended and the event was written. @example "2026-11-27T10:00:01.000Z" */
  createdAt: string;
  /** @example "2026-11-27T10:00:01.334Z" */
  finishedAt: string | null;
  /** Every attempt, oldest first. */
  attempts: NotificationAttemptResponse[];
}

export function toNotifyEndpointResponse(endpoint: NotifyEndpoint): NotifyEndpointResponse {
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: endpoint.events,
    createdAt: endpoint.createdAt.toISOString(),
    secretRotatedAt: endpoint.secretRotatedAt.toISOString(),
  };
}

function toAttemptResponse(attempt: NotificationAttempt): NotificationAttemptResponse {
  return {
    attemptedAt: attempt.attemptedAt.toISOString(),
    durationMs: attempt.durationMs,
    statusCode: attempt.statusCode,
    errorCode: attempt.errorCode,
    error: attempt.error,
    delivered: attempt.delivered,
  };
}

export function toNotificationEventResponse(event: NotificationEvent): NotificationEventResponse {
  return {
    id: event.id,
    type: event.type,
    status: event.status,
    endpointId: event.endpointId,
    url: event.url,
    nextAttemptAt: event.nextAttemptAt?.toISOString() ?? null,
    createdAt: event.createdAt.toISOString(),
    finishedAt: event.finishedAt?.toISOString() ?? null,
    attempts: event.attempts.map(toAttemptResponse),
  };
}
