import type { IncomingMessage } from 'node:http';

import type { AnsweredCode } from './error-code.registry.js';

const contexts = new WeakMap<IncomingMessage, RequestContext>();

/** Attached to every request by the request-id middleware; a feature may attach a subclass of its own. */
export class RequestContext {
  errorCode: AnsweredCode | undefined = undefined;
  /** What the owner may read about the error and the sender may not (a filter's failure). */
  errorReason: string | undefined = undefined;

  constructor(readonly requestId: string) {}

  static of(req: IncomingMessage): RequestContext | undefined {
    return contexts.get(req);
  }

  attachTo(req: IncomingMessage): this {
    contexts.set(req, this);
    return this;
  }
}
