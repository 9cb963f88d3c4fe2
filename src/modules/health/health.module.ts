import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';

import { RUNS_QUEUE } from '../runs/runs.queue.js';
import { HealthController } from './health.controller.js';
import { HealthService } from './health.service.js';

@Module({
  imports: [BullModule.registerQueue({ name: RUNS_QUEUE })],
  controllers: [HealthController],
  providers: [HealthService],
})
export class HealthModule {}
