import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { APP_CONFIG, type AppConfig } from '../../config/app.config.js';
import { parseKeyring } from '../../config/keyring.parser.js';
import { WorkflowsModule } from '../workflows/workflows.module.js';
import { SecretCipher } from './secret.cipher.js';
import { StepSecretsController } from './step-secrets.controller.js';
import { StepSecretsService } from './step-secrets.service.js';
import { TriggerSecret } from './trigger-secret.entity.js';
import { TriggerSecretsRepository } from './trigger-secrets.repository.js';
import { TriggerSecretsService } from './trigger-secrets.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([TriggerSecret]), WorkflowsModule],
  controllers: [StepSecretsController],
  providers: [
    {
      provide: SecretCipher,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new SecretCipher(parseKeyring(config.secretsEncryptionKey)),
    },
    TriggerSecretsRepository,
    TriggerSecretsService,
    StepSecretsService,
  ],
  exports: [SecretCipher, TriggerSecretsService, TriggerSecretsRepository, StepSecretsService],
})
export class SecretsModule {}
