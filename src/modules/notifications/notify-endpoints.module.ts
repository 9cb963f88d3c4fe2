import { Global, Module } from '@nestjs/common';

import { SecretsModule } from '../secrets/secrets.module.js';
import { WORKFLOW_NOTIFY_ENDPOINTS } from '../workflows/workflow-notify.port.js';
import { NotifyEndpointsRepository } from './notify-endpoints.repository.js';
import { NotifyEndpointsService } from './notify-endpoints.service.js';

/**
 * The endpoints' repository and secrets, global so that the workflows module can sync a definition's `notify`
 * in its save's transaction without importing the notifications module (which imports it).
 */
@Global()
@Module({
  imports: [SecretsModule],
  providers: [
    NotifyEndpointsRepository,
    NotifyEndpointsService,
    { provide: WORKFLOW_NOTIFY_ENDPOINTS, useExisting: NotifyEndpointsService },
  ],
  exports: [WORKFLOW_NOTIFY_ENDPOINTS, NotifyEndpointsRepository, NotifyEndpointsService],
})
export class NotifyEndpointsModule {}
