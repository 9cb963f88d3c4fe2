import { Webhook } from 'standardwebhooks';

import { HTTP_USER_AGENT, parseRequestUrl, sendRequest, SsrfGuard, StepFailure } from '../../engine/index.js';

export interface SendResult {
  delivered: boolean;
  statusCode: number | null;
  errorCode: string | null;
  error: string | null;
  /** `false`: trying again cannot help (the SSRF guard refused the URL): the event fails at once. */
  retryable: boolean;
  durationMs: number;
}

export interface SenderOptions {
  allowedHosts: readonly string[];
  protectedPorts: readonly number[];
  timeoutMs: number;
}

// The receiver's answer is not kept: its status is what counts, and a body could be anything.
const MAX_RESPONSE_BYTES = 64 * 1024;

/** One signed POST (Standard Webhooks), through the same SSRF guard and sender as http steps. */
export class NotificationSender {
  private readonly guard: SsrfGuard;

  constructor(private readonly options: SenderOptions) {
    this.guard = new SsrfGuard({ allowedHosts: options.allowedHosts, protectedPorts: options.protectedPorts });
  }

  async send(url: string, secret: string, eventId: string, body: string, now = new Date()): Promise<SendResult> {
    const started = performance.now();
    const took = () => Math.round(performance.now() - started);
    const attempt = new AbortController();
    const timer = setTimeout(() => {
      attempt.abort(new StepFailure('http_timeout', `no answer within ${this.options.timeoutMs} ms`, true));
    }, this.options.timeoutMs);
    try {
      const target = await this.guard.vet(parseRequestUrl(url), attempt.signal);
      const bytes = Buffer.from(body, 'utf8');
      const response = await sendRequest(
        target,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': HTTP_USER_AGENT,
            'webhook-id': eventId,
            'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
            'webhook-signature': new Webhook(secret).sign(eventId, now, bytes),
          },
          body: bytes,
        },
        { signal: attempt.signal, maxResponseBytes: MAX_RESPONSE_BYTES },
      );
      const delivered = response.status >= 200 && response.status < 300;
      return {
        delivered,
        statusCode: response.status,
        errorCode: delivered ? null : 'http_status',
        error: delivered ? null : `the endpoint answered with status ${response.status}`,
        retryable: true,
        durationMs: took(),
      };
    } catch (error) {
      if (!(error instanceof StepFailure)) throw error;
      return {
        delivered: false,
        statusCode: null,
        errorCode: error.code,
        error: error.message,
        retryable: error.code !== 'ssrf_blocked' && error.code !== 'http_invalid_url',
        durationMs: took(),
      };
    } finally {
      clearTimeout(timer);
    }
  }
}
