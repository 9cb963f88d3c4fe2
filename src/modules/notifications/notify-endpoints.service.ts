import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { newId } from '../../common/ids.util.js';
import type { InstanceNotifyEndpoint } from '../../config/app.config.js';
import type { NotifyEndpointConfig } from '../../engine/index.js';
import { SecretCipher } from '../secrets/secret.cipher.js';
import { generateWebhookSecret } from '../secrets/secret.generator.js';
import type { NewNotifySecret, WorkflowNotifyEndpoints } from '../workflows/workflow-notify.port.js';
import { NotifyEndpointsRepository } from './notify-endpoints.repository.js';

/** Each endpoint signs with a `whsec_` secret of its own: generated here, encrypted at rest, shown once. */
@Injectable()
export class NotifyEndpointsService implements WorkflowNotifyEndpoints {
  constructor(
    private readonly repository: NotifyEndpointsRepository,
    private readonly cipher: SecretCipher,
  ) {}

  async sync(
    tx: EntityManager,
    workflowId: string,
    notify: NotifyEndpointConfig[] | undefined,
    now: Date,
  ): Promise<NewNotifySecret[]> {
    const secrets = new Map<string, string>();
    const created = await this.repository.sync(
      tx,
      workflowId,
      notify ?? [],
      (config) => {
        const id = newId();
        const secret = generateWebhookSecret();
        secrets.set(id, secret);
        return { id, config, secret: this.cipher.encrypt(secret, id) };
      },
      now,
    );
    return created.map((endpoint) => ({
      endpointId: endpoint.id,
      url: endpoint.config.url,
      secret: secrets.get(endpoint.id) as string,
    }));
  }

  /** The operator's NOTIFY_* configuration becomes the one instance-wide endpoint row (or removes it). */
  async syncInstance(endpoint: InstanceNotifyEndpoint | null, now: Date): Promise<void> {
    await this.repository.syncInstance(
      endpoint,
      (id) => this.cipher.encrypt((endpoint as InstanceNotifyEndpoint).secret, id),
      newId(),
      now,
    );
  }

  open(endpointId: string, ciphertext: string): string {
    return this.cipher.decrypt(ciphertext, endpointId);
  }
}
