import { Injectable } from '@nestjs/common';

import { NotFoundError } from '../../common/domain.error.js';
import { SecretCipher } from '../secrets/secret.cipher.js';
import { generateWebhookSecret } from '../secrets/secret.generator.js';
import { WorkflowsService } from '../workflows/workflows.service.js';
import {
  toNotificationEventResponse,
  toNotifyEndpointResponse,
  type NotificationEventResponse,
  type NotifyEndpointResponse,
  type RotatedNotifySecretResponse,
} from './dto/notification.dto.js';
import { NotificationEventsRepository } from './notification-events.repository.js';
import { NotifyEndpointsRepository } from './notify-endpoints.repository.js';

/** The API's side of notifications: a workflow's endpoints, their secrets' rotation, a run's events. */
@Injectable()
export class NotificationsService {
  constructor(
    private readonly endpoints: NotifyEndpointsRepository,
    private readonly events: NotificationEventsRepository,
    private readonly cipher: SecretCipher,
    private readonly workflows: WorkflowsService,
  ) {}

  async listEndpoints(workflowId: string): Promise<NotifyEndpointResponse[]> {
    await this.workflows.assertExists(workflowId);
    return (await this.endpoints.listForWorkflow(workflowId)).map(toNotifyEndpointResponse);
  }

  /** The old secret stops signing at once: the next attempt of every event is signed with the new one. */
  async rotateSecret(workflowId: string, endpointId: string): Promise<RotatedNotifySecretResponse> {
    await this.workflows.assertExists(workflowId);
    if (!(await this.endpoints.findForWorkflow(workflowId, endpointId))) {
      throw new NotFoundError('notify_endpoint', endpointId);
    }
    const secret = generateWebhookSecret();
    const endpoint = await this.endpoints.replaceSecret(
      endpointId,
      this.cipher.encrypt(secret, endpointId),
      new Date(),
    );
    // Removed by a save in between.
    if (!endpoint) throw new NotFoundError('notify_endpoint', endpointId);
    return { ...toNotifyEndpointResponse(endpoint), secret };
  }

  async listForRun(runId: string): Promise<NotificationEventResponse[]> {
    if (!(await this.events.runExists(runId))) throw new NotFoundError('run', runId);
    return (await this.events.listForRun(runId)).map(toNotificationEventResponse);
  }
}
