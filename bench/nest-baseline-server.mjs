#!/usr/bin/env node
// The "minimal NestJS app" baseline: the ingest of bench/lib/baseline-ingest.mjs behind one NestJS
// controller on express, the framework hookrun is built on; or, with `express`, behind one plain
// express route. No logging, cache, rate limit, guard or filter.
//
//   node bench/nest-baseline-server.mjs [nest|express]
//
// Environment: PORT, HOST, and those of bench/lib/baseline-ingest.mjs.
import 'reflect-metadata';

import express from 'express';

import { errorAnswer, exitOnSignal, ingest, MAX_BODY_BYTES, prepareBaseline } from './lib/baseline-ingest.mjs';

const framework = process.argv[2] ?? 'nest';
const env = process.env;
const rawBody = express.raw({ type: () => true, limit: MAX_BODY_BYTES, inflate: false });

/** @returns {Promise<import('node:http').Server>} */
async function startExpress() {
  const app = express();
  app.disable('x-powered-by');
  app.get('/health', (_req, res) => {
    res.json({ ok: true });
  });
  app.post('/webhooks/workflows/:slug', rawBody, (req, res) => {
    ingest(String(req.params.slug), req.headers, Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)).then(
      ({ runId, replayed }) => {
        res.status(202).setHeader('Location', `/v1/workflow-runs/${runId}`);
        if (replayed) res.setHeader('idempotent-replayed', 'true');
        res.json({ data: { runId, status: 'queued' } });
      },
      (error) => {
        const answer = errorAnswer(error);
        res.status(answer.status).json(answer.body);
      },
    );
  });
  return app.listen(Number(env.PORT ?? 3100), env.HOST ?? '127.0.0.1');
}

/** Decorators are applied by hand so that the script needs no build. */
async function startNest() {
  const { Controller, Get, HttpCode, HttpException, Module, Post, Req, Res } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');

  class WebhooksController {
    /** @param {import('express').Request} req @param {import('express').Response} res */
    async receive(req, res) {
      try {
        const { runId, replayed } = await ingest(
          String(req.params.slug),
          req.headers,
          Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
        );
        res.setHeader('Location', `/v1/workflow-runs/${runId}`);
        if (replayed) res.setHeader('idempotent-replayed', 'true');
        return { data: { runId, status: 'queued' } };
      } catch (error) {
        const answer = errorAnswer(error);
        throw new HttpException(answer.body, answer.status);
      }
    }

    health() {
      return { ok: true };
    }
  }
  const proto = WebhooksController.prototype;
  Reflect.decorate([Controller()], WebhooksController);
  Req()(proto, 'receive', 0);
  Res({ passthrough: true })(proto, 'receive', 1);
  Reflect.decorate(
    [Post('webhooks/workflows/:slug'), HttpCode(202)],
    proto,
    'receive',
    Object.getOwnPropertyDescriptor(proto, 'receive'),
  );
  Reflect.decorate([Get('health')], proto, 'health', Object.getOwnPropertyDescriptor(proto, 'health'));
  Reflect.defineMetadata('design:paramtypes', [Object, Object], proto, 'receive');

  class BaselineModule {}
  Reflect.decorate([Module({ controllers: [WebhooksController] })], BaselineModule);

  const app = await NestFactory.create(BaselineModule, { bodyParser: false, logger: ['error', 'warn'] });
  app.getHttpAdapter().getInstance().disable('x-powered-by');
  app.use(rawBody);
  await app.listen(Number(env.PORT ?? 3100), env.HOST ?? '127.0.0.1');
  return app.getHttpServer();
}

await prepareBaseline();
exitOnSignal(framework === 'express' ? await startExpress() : await startNest());
