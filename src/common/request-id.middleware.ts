import type { NextFunction, Request, Response } from 'express';

import { newId } from './ids.util.js';
import { RequestContext } from './request.context.js';

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives every request its context and id, echoed in `x-request-id` before anything else can answer, so
 * that errors raised by body parsers and guards carry it too. A client's id is kept when it is a plain token.
 */
export function requestIdMiddleware(req: Request, res: Response, next: NextFunction): void {
  const sent = req.headers['x-request-id'];
  const id = typeof sent === 'string' && CLIENT_REQUEST_ID.test(sent) ? sent : newId();
  new RequestContext(id).attachTo(req);
  res.setHeader('x-request-id', id);
  next();
}
