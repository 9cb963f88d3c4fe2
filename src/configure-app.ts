import { NotFoundException } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express, { type NextFunction, type Request, type Response } from 'express';

import { AllExceptionsFilter } from './common/all-exceptions.filter.js';
import { UnsupportedMediaTypeError } from './common/errors.js';
import { carriesBody, isJsonMediaType, mediaTypeOf, refuseInvalidUtf8 } from './common/request-body.js';
import { requestIdMiddleware } from './common/request-id.middleware.js';
import { createValidationPipe } from './common/validation.pipe.js';
import type { AppConfig } from './config/app.config.js';
import { WebhookDeliveryLogMiddleware } from './modules/webhooks/deliveries/webhook-delivery-log.middleware.js';

const WEBHOOK_PATH = '/webhooks/';
const API_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Everything main.ts does to an application before it listens, shared with the e2e tests so that they
 * test what runs in production: request ids, body parsing, the error envelope, validation, Swagger.
 */
export function configureApp(app: NestExpressApplication, config: AppConfig): void {
  app.disable('x-powered-by');
  // No ETag: answers are small, rarely fetched twice unchanged, and hashing each one costs on the ingest path.
  app.set('etag', false);
  app.use(requestIdMiddleware);
  // Before the body parser, so that the delivery log sees webhooks refused for their size too.
  if (config.role !== 'worker') app.use(app.get(WebhookDeliveryLogMiddleware).use);

  // Webhooks are verified over the exact bytes received, so their bodies stay raw (and compressed
  // bodies are refused: a signature covers what was sent). Everything else is JSON, and says so: a body
  // sent as a form (curl -d without a header) would otherwise be skipped and fail validation as empty.
  const rawWebhookBody = express.raw({ type: () => true, limit: config.webhookMaxBodyBytes, inflate: false });
  const jsonBody = express.json({ limit: API_BODY_LIMIT_BYTES, type: () => true, verify: refuseInvalidUtf8 });
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.path.startsWith(WEBHOOK_PATH)) return rawWebhookBody(req, res, next);
    const mediaType = mediaTypeOf(req.headers['content-type']);
    if (isJsonMediaType(mediaType) || !carriesBody(req)) return jsonBody(req, res, next);
    next(
      new UnsupportedMediaTypeError(
        mediaType
          ? `Content type ${mediaType.slice(0, 100)} is not accepted: send Content-Type: application/json`
          : 'A body needs Content-Type: application/json',
      ),
    );
  });

  if (config.role === 'worker') {
    // A worker process serves only its health checks.
    app.use((req: Request, _res: Response, next: NextFunction) =>
      req.path.startsWith('/health/') ? next() : next(new NotFoundException(`Cannot ${req.method} ${req.path}`)),
    );
  }

  app.useGlobalFilters(new AllExceptionsFilter());
  app.useGlobalPipes(createValidationPipe());
  if (config.role !== 'worker') setupSwagger(app, config);
}

const WEBHOOK_ROUTE = '/webhooks/workflows/:slug';

/**
 * Express tries routes in the order they were added, and Swagger's nine come before the controllers'
 * (they are added here, before Nest registers its routes on init). The webhook route, by far the
 * busiest, is moved ahead of them, so that a webhook is matched against no other route. Call once the
 * application is initialised; nothing else matches a webhook's path, so no request changes route.
 */
export function routeWebhooksFirst(app: NestExpressApplication): void {
  const stack = (app.getHttpAdapter().getInstance() as { router: { stack: { route?: { path?: unknown } }[] } }).router
    .stack;
  const webhook = stack.findIndex((layer) => layer.route?.path === WEBHOOK_ROUTE);
  const firstRoute = stack.findIndex((layer) => layer.route !== undefined);
  if (webhook > firstRoute && firstRoute >= 0) stack.splice(firstRoute, 0, ...stack.splice(webhook, 1));
}

function setupSwagger(app: NestExpressApplication, config: AppConfig): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('hookrun')
      .setDescription(
        'Signed webhooks start workflow runs. Management endpoints (`/v1/*`) take `Authorization: Bearer <api key>`; ' +
          'webhooks (`/webhooks/workflows/{slug}`) are verified by their Standard Webhooks signature. Every answer ' +
          'carries `x-request-id`; errors are `{ error: { status, code, message, requestId } }`.',
      )
      .setVersion('1')
      // Relative first, so that "Try it out" calls whatever address served the docs (127.0.0.1, a LAN name,
      // a proxy) on its own origin: an absolute localhost URL fails with a CORS error from any other address.
      .addServer('/', 'The address these docs were opened at')
      .addServer(config.publicBaseUrl, 'PUBLIC_BASE_URL')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key: hr_...' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', customSiteTitle: 'hookrun API' });
}
