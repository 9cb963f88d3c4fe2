import type { IncomingMessage } from 'node:http';

import { describe, expect, it } from '@jest/globals';
import type { Request, Response } from 'express';

import { idTime } from '../../common/ids.util.js';
import { RequestContext } from '../../common/request.context.js';
import type { VerifiedWebhook } from './webhook-verification.service.js';
import { WebhookRequestContext } from './webhook-request.context.js';

const TRIGGER = { id: 'trigger-1', workflowId: 'workflow-1' };
const RECEIVED = Date.parse('2026-12-01T10:00:00Z');

function answered(statusCode: number, body: unknown, headers: Record<string, string> = {}): Response {
  return { statusCode, req: { body, headers } } as unknown as Response;
}

describe('WebhookRequestContext', () => {
  it('replaces the plain context of its request, keeping the request id', () => {
    const req = {} as Request;
    new RequestContext('req-1').attachTo(req as IncomingMessage);
    expect(WebhookRequestContext.of(req)).toBeUndefined();
    const context = WebhookRequestContext.for(req);
    expect(context.requestId).toBe('req-1');
    expect(RequestContext.of(req)).toBe(context);
    expect(WebhookRequestContext.for(req)).toBe(context);
  });

  it('makes a rejected delivery its row: the error code, the body size and hash, an id of the moment received', () => {
    const context = new WebhookRequestContext('req-2', RECEIVED);
    context.errorCode = 'invalid_signature';
    const row = context.toDelivery(answered(401, Buffer.from('{}')), TRIGGER);
    expect(row).toMatchObject({
      triggerId: 'trigger-1',
      workflowId: 'workflow-1',
      outcome: 'rejected',
      statusCode: 401,
      errorCode: 'invalid_signature',
      bodyBytes: 2,
      bodySha256: '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
      deliveryId: null,
      runId: null,
      requestId: 'req-2',
    });
    expect(idTime(row.id).getTime()).toBe(RECEIVED);
    expect(context.loggedInRun(401)).toBe(false);
  });

  it('takes the declared size of a body refused before it was read', () => {
    const context = new WebhookRequestContext('req-3', RECEIVED);
    const row = context.toDelivery(answered(413, {}, { 'content-length': '2000000' }), TRIGGER);
    expect(row).toMatchObject({ bodyBytes: 2000000, bodySha256: null, errorCode: null });
  });

  it('leaves a delivery that started a run to the run, and logs a replay and a handshake itself', () => {
    const context = new WebhookRequestContext('req-4', RECEIVED);
    context.verified = { deliveryId: 'msg_1' } as VerifiedWebhook;
    expect(context.toDelivery(answered(200, Buffer.alloc(0)), TRIGGER).outcome).toBe('accepted');
    expect(context.loggedInRun(200)).toBe(false);

    context.run = { id: 'run-1', replayed: false };
    expect(context.loggedInRun(202)).toBe(true);
    expect(context.toDelivery(answered(202, Buffer.alloc(0)), TRIGGER)).toMatchObject({ id: 'run-1', runId: 'run-1' });

    context.run = { id: 'run-1', replayed: true };
    expect(context.loggedInRun(202)).toBe(false);
    expect(context.toDelivery(answered(202, Buffer.alloc(0)), TRIGGER)).toMatchObject({
      outcome: 'replayed',
      runId: 'run-1',
      deliveryId: 'msg_1',
    });
  });

  it("logs a delivery the filter stopped as filtered, and a failing filter's as filter_failed with its reason", () => {
    const filtered = new WebhookRequestContext('req-5', RECEIVED);
    filtered.filtered = true;
    expect(filtered.toDelivery(answered(200, Buffer.from('{}')), TRIGGER)).toMatchObject({
      outcome: 'filtered',
      statusCode: 200,
      runId: null,
      reason: null,
    });

    const failed = new WebhookRequestContext('req-6', RECEIVED);
    failed.errorCode = 'filter_failed';
    failed.errorReason = 'Expected a number at position 5';
    expect(failed.toDelivery(answered(500, Buffer.from('{}')), TRIGGER)).toMatchObject({
      outcome: 'filter_failed',
      statusCode: 500,
      errorCode: 'filter_failed',
      reason: 'Expected a number at position 5',
    });

    const rejected = new WebhookRequestContext('req-7', RECEIVED);
    rejected.errorCode = 'invalid_signature';
    rejected.errorReason = 'not for this outcome';
    expect(rejected.toDelivery(answered(401, Buffer.from('{}')), TRIGGER)).toMatchObject({
      outcome: 'rejected',
      reason: null,
    });
  });

  it('counts a delivery whose run failed while the sender waited (502 run_failed) as accepted, with its run', () => {
    const context = new WebhookRequestContext('req-5', RECEIVED);
    context.verified = { deliveryId: 'msg_2' } as VerifiedWebhook;
    context.run = { id: 'run-2', replayed: false };
    context.errorCode = 'run_failed';
    expect(context.loggedInRun(502)).toBe(true);
    context.run = { id: 'run-2', replayed: true };
    expect(context.toDelivery(answered(502, Buffer.alloc(0)), TRIGGER)).toMatchObject({
      outcome: 'replayed',
      runId: 'run-2',
      statusCode: 502,
      errorCode: 'run_failed',
    });
  });
});
