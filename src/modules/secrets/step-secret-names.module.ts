import { Global, Module } from '@nestjs/common';

import { WORKFLOW_SECRET_NAMES } from '../workflows/workflow-secrets.port.js';
import { StepSecretsRepository } from './step-secrets.repository.js';

/**
 * The step secrets' repository, global so that the workflows module (which this module imports, for `usedBy`) can
 * check that the secrets a definition names exist without importing it.
 */
@Global()
@Module({
  providers: [StepSecretsRepository, { provide: WORKFLOW_SECRET_NAMES, useExisting: StepSecretsRepository }],
  exports: [WORKFLOW_SECRET_NAMES, StepSecretsRepository],
})
export class StepSecretNamesModule {}
