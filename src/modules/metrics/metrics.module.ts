import { Module } from '@nestjs/common';

import { RunsModule } from '../runs/runs.module.js';
import { MetricsTokenGuard } from './metrics-token.guard.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';

/** `GET /metrics, in every role. */
@Module({
  imports: [RunsModule],
  controllers: [MetricsController],
  providers: [MetricsService, MetricsTokenGuard],
})
export class MetricsModule {}
