import { NotFoundException } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express, { type NextFunction, type Request, type Response } from 'express';

import { AllExceptionsFilter } from './common/all-exceptions.filter.js';
import { UnsupportedMediaTypeError } from './common/domain.error.js';
import { carriesBody, isJsonMediaType, mediaTypeOf, refuseInvalidUtf8 } from './common/request-body.util.js';
import { requestIdMiddleware } from './common/request-id.middleware.js';
import { createValidationPipe } from './common/validation.pipe.js';
import type { AppConfig } from './config/app.config.js';
import { WebhookDeliveryLogMiddleware } from './modules/webhooks/deliveries/webhook-delivery-log.middleware.js';

const WEBHOOK_PATH = '/webhooks/';
const API_BODY_LIMIT_BYTES = 1024 * 1024;

export function configureApp(app: NestExpressApplication, config: AppConfig): void {
  app.disable('x-powered-by');
  // Hashing every answer for an ETag costs on the ingest path, and answers are rarely fetched twice unchanged.
  app.set('etag', false);
  app.use(requestIdMiddleware);
  // Before the body parser, so that the delivery log sees webhooks refused for their size too.
  if (config.role !== 'worker') app.use(app.get(WebhookDeliveryLogMiddleware).use);

  // Signatures cover the bytes sent, so webhook bodies stay raw. A form body (curl -d) would pass as empty JSON.
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
    app.use((req: Request, _res: Response, next: NextFunction) =>
      req.path.startsWith('/health/') ? next() : next(new NotFoundException(`Cannot ${req.method} ${req.path}`)),
    );
  }

  app.useGlobalFilters(new AllExceptionsFilter());
  app.useGlobalPipes(createValidationPipe());
  if (config.role !== 'worker') setupSwagger(app, config);
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
      // Relative first: "Try it out" then calls the origin that served the docs, not a localhost that fails CORS.
      .addServer('/', 'The address these docs were opened at')
      .addServer(config.publicBaseUrl, 'PUBLIC_BASE_URL')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key: hr_...' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', customSiteTitle: 'hookrun API' });
}
