import { Injectable } from '@nestjs/common';

/** Something a cache may hold went stale: a workflow or its trigger changed. */
export interface Change {
  workflowId: string;
  slug?: string;
}

/**
 * In-process notifications of changes to cached data, so that the trigger cache drops an entry the
 * moment a workflow is disabled or a secret rotates.
 */
@Injectable()
export class ChangeFeed {
  private readonly listeners = new Set<(change: Change) => void>();

  publish(change: Change): void {
    for (const listener of this.listeners) listener(change);
  }

  subscribe(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
