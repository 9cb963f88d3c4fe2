import { NotFoundException } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express, { type NextFunction, type Request, type Response } from 'express';
import { existsSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';

import { AllExceptionsFilter } from './common/all-exceptions.filter.js';
import { UnsupportedMediaTypeError } from './common/domain.error.js';
import { carriesBody, isJsonMediaType, mediaTypeOf, refuseInvalidUtf8 } from './common/request-body.util.js';
import { requestIdMiddleware } from './common/request-id.middleware.js';
import { createValidationPipe } from './common/validation.pipe.js';
import type { AppConfig } from './config/app.config.js';
import { WebhookDeliveryLogMiddleware } from './modules/webhooks/deliveries/webhook-delivery-log.middleware.js';

const WEBHOOK_PATH = '/webhooks/';
export const CONSOLE_PATH = '/console';
// Vite's script and style files only, no inline code: the console needs nothing looser than this.
const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');
const API_BODY_LIMIT_BYTES = 1024 * 1024;

export function configureApp(app: NestExpressApplication, config: AppConfig): void {
  app.disable('x-powered-by');
  // Hashing every answer for an ETag costs on the ingest path, and answers are rarely fetched twice unchanged.
  app.set('etag', false);
  app.use(requestIdMiddleware);
  if (config.role !== 'worker') serveConsole(app);
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
      req.path.startsWith('/health/') || req.path === '/metrics'
        ? next()
        : next(new NotFoundException(`Cannot ${req.method} ${req.path}`)),
    );
  }

  app.useGlobalFilters(new AllExceptionsFilter());
  app.useGlobalPipes(createValidationPipe());
  if (config.role !== 'worker') setupSwagger(app, config);
}

/** Built next to main.js by `npm run build`; from the sources (tests), the last build's. */
export function consoleDirectory(): string | null {
  const candidates = [join(import.meta.dirname, 'console'), join(import.meta.dirname, '..', 'dist', 'console')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? null;
}

/** The console's files are public (they carry no data: every call they make needs an API key). */
function serveConsole(app: NestExpressApplication): void {
  const dir = consoleDirectory();
  app.use((req: Request, res: Response, next: NextFunction) =>
    req.path === '/' && (req.method === 'GET' || req.method === 'HEAD') ? res.redirect(302, CONSOLE_PATH) : next(),
  );
  if (!dir) return;
  const index = join(dir, 'index.html');
  const gzipped = precompressedAssets(dir);
  const files = express.static(dir, {
    index: false,
    redirect: false,
    setHeaders: (res, path) => {
      // Asset names carry their content hash; index.html names the current ones, so it is always revalidated.
      res.setHeader(
        'Cache-Control',
        path.startsWith(join(dir, 'assets')) ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  app.use(CONSOLE_PATH, (req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Content-Security-Policy', CONSOLE_CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    if (gzipped.has(req.path)) {
      res.setHeader('Vary', 'Accept-Encoding');
      if (req.acceptsEncodings('gzip') === 'gzip') {
        // send keeps a Content-Type already set, so the .gz goes out typed as the file it holds.
        res.type(extname(req.path));
        res.setHeader('Content-Encoding', 'gzip');
        req.url = `${req.path}.gz`;
      }
    }
    files(req, res, () => {
      // Deep links (/console/runs/{id}) get the app, which routes them; a missing asset stays a 404.
      if ((req.method !== 'GET' && req.method !== 'HEAD') || req.path.startsWith('/assets/')) return next();
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(index);
    });
  });
}

/** `/assets/<name>` of every asset the build compressed (vite.config.ts writes `<name>.gz` beside it). */
function precompressedAssets(dir: string): Set<string> {
  const assets = join(dir, 'assets');
  if (!existsSync(assets)) return new Set();
  return new Set(
    readdirSync(assets)
      .filter((name) => name.endsWith('.gz') && existsSync(join(assets, name.slice(0, -'.gz'.length))))
      .map((name) => `/assets/${name.slice(0, -'.gz'.length)}`),
  );
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
