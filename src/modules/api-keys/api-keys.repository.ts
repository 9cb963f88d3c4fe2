import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, type Repository } from 'typeorm';

import { ApiKey } from './api-key.entity.js';

@Injectable()
export class ApiKeysRepository {
  constructor(@InjectRepository(ApiKey) private readonly repo: Repository<ApiKey>) {}

  async insert(key: ApiKey): Promise<void> {
    await this.repo.insert(key);
  }

  findByHash(keyHash: string): Promise<ApiKey | null> {
    return this.repo.findOneBy({ keyHash });
  }

  listNewestFirst(limit: number, beforeId: string | null): Promise<ApiKey[]> {
    return this.repo.find({
      where: beforeId ? { id: LessThan(beforeId) } : {},
      order: { id: 'DESC' },
      take: limit + 1,
    });
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.repo.delete({ id });
    return (result.affected ?? 0) > 0;
  }

  /** At most one write a minute per key, so that authenticating stays a read. */
  async touch(id: string, now: Date): Promise<void> {
    await this.repo
      .createQueryBuilder()
      .update()
      .set({ lastUsedAt: now })
      .where('id = :id AND (last_used_at IS NULL OR last_used_at < :stale)', {
        id,
        stale: new Date(now.getTime() - 60_000),
      })
      .execute();
  }
}
