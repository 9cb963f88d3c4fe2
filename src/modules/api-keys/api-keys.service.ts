import { Inject, Injectable, Logger } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { newId } from '../../common/ids.util.js';

import { APP_CONFIG, type AppConfig } from '../../config/app.config.js';
import { AuthenticationError, NotFoundError } from '../../common/domain.error.js';
import { decodeCursor, toPage, type Page } from '../../common/pagination.util.js';
import { REQUEST_DATABASE_TIMEOUT_MS, withTimeout } from '../../common/timeout.util.js';
import { generateApiKey, hashApiKey } from './api-key.generator.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import {
  toApiKeyResponse,
  toCreatedApiKeyResponse,
  type ApiKeyResponse,
  type CreatedApiKeyResponse,
} from './dto/api-key.dto.js';

export interface Principal {
  apiKeyId: string | null;
}

@Injectable()
export class ApiKeysService {
  private readonly logger = new Logger(ApiKeysService.name);
  private readonly bootstrapHash: Buffer | null;

  constructor(
    private readonly repository: ApiKeysRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.bootstrapHash = config.bootstrapApiKey ? Buffer.from(hashApiKey(config.bootstrapApiKey), 'hex') : null;
  }

  async create(name: string): Promise<CreatedApiKeyResponse> {
    const { key, prefix, hash } = generateApiKey();
    const entity = { id: newId(), name, prefix, keyHash: hash, createdAt: new Date(), lastUsedAt: null };
    await this.repository.insert(entity);
    return toCreatedApiKeyResponse(entity, key);
  }

  async list(limit: number, cursor?: string): Promise<Page<ApiKeyResponse>> {
    const rows = await this.repository.listNewestFirst(limit, decodeCursor(cursor));
    return toPage(rows, limit, toApiKeyResponse);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.repository.delete(id))) throw new NotFoundError('api_key', id);
  }

  /** Resolves a bearer token to its key; keys are compared by hash, so a lookup reveals nothing. */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    const key = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (!key) throw new AuthenticationError('unauthorized', 'Missing API key: send Authorization: Bearer <key>');
    const hash = hashApiKey(key);
    if (this.bootstrapHash && timingSafeEqual(this.bootstrapHash, Buffer.from(hash, 'hex'))) {
      return { apiKeyId: null };
    }
    const found = await withTimeout(
      this.repository.findByHash(hash),
      REQUEST_DATABASE_TIMEOUT_MS,
      'Checking the API key',
    );
    if (!found) throw new AuthenticationError('unauthorized', 'Unknown API key');
    this.repository.touch(found.id, new Date()).catch((error: unknown) => {
      this.logger.warn(`Could not record API key use: ${String(error)}`);
    });
    return { apiKeyId: found.id };
  }
}
