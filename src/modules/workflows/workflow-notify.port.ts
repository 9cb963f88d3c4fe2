import type { EntityManager } from 'typeorm';

import type { NotifyEndpointConfig } from '../../engine/index.js';

/** A notify endpoint created by a save, with its signing secret: shown in that save's answer only. */
export interface NewNotifySecret {
  endpointId: string;
  url: string;
  secret: string;
}

// Notify endpoints belong to the notifications module, which depends on this one: it provides this port.
export interface WorkflowNotifyEndpoints {
  /** Inside the save's transaction: the endpoints match the definition that is committed with them. */
  sync(
    tx: EntityManager,
    workflowId: string,
    notify: NotifyEndpointConfig[] | undefined,
    now: Date,
  ): Promise<NewNotifySecret[]>;
}

export const WORKFLOW_NOTIFY_ENDPOINTS = Symbol('WorkflowNotifyEndpoints');
