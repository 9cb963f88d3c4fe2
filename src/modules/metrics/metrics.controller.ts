import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';

import { ApiErrors } from '../../common/openapi.decorator.js';
import { Public } from '../api-keys/public.decorator.js';
import { MetricsTokenGuard } from './metrics-token.guard.js';
import { MetricsService } from './metrics.service.js';

@ApiTags('Health')
// For scrapers, which hold no API key: METRICS_TOKEN, when set, is their credential instead.
@Public()
@UseGuards(MetricsTokenGuard)
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @ApiOperation({
    summary: 'Prometheus metrics of this process (every role)',
    description:
      'Prometheus text format. With METRICS_TOKEN set, send `Authorization: Bearer <METRICS_TOKEN>` (an API key ' +
      'is not accepted). The metrics and their labels: docs/operations.md#metrics.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format 0.0.4', schema: { type: 'string' } })
  @ApiErrors('unauthorized')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  scrape(): Promise<string> {
    return this.metrics.scrape();
  }
}
