import type { NextFunction, Request, Response } from 'express';

import { newId } from './ids.util.js';
import { RequestContext } from './request.context.js';

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

// First of all middleware, so that errors raised by body parsers and guards carry the id too.
export function requestIdMiddleware(req: Request, res: Response, next: NextFunction): void {
  const sent = req.headers['x-request-id'];
  const id = typeof sent === 'string' && CLIENT_REQUEST_ID.test(sent) ? sent : newId();
  new RequestContext(id).attachTo(req);
  res.setHeader('x-request-id', id);
  next();
}
