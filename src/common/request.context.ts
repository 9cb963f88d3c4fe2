import type { IncomingMessage } from 'node:http';

import type { AnsweredCode } from './error-code.registry.js';

const contexts = new WeakMap<IncomingMessage, RequestContext>();

/**
 * What one request's handlers learn and pass on, kept beside the request rather than on it. The request-id
 * middleware attaches one to every request; a feature may attach a subclass with facts of its own.
 */
export class RequestContext {
  /** Set by the exception filter when the answer is an error. */
  errorCode: AnsweredCode | undefined = undefined;

  constructor(readonly requestId: string) {}

  static of(req: IncomingMessage): RequestContext | undefined {
    return contexts.get(req);
  }

  attachTo(req: IncomingMessage): this {
    contexts.set(req, this);
    return this;
  }
}
