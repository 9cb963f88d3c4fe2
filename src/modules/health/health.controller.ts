import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';

import { ApiData, ApiErrors } from '../../common/openapi.decorator.js';
import { Public } from '../api-keys/public.decorator.js';
import { HealthResponse } from './health.dto.js';
import { HealthService } from './health.service.js';

@ApiTags('Health')
// For load balancers and orchestrators, which hold no key; they reveal only up or down.
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  @ApiOperation({ summary: 'The process is up (no dependency is checked)' })
  @ApiData(200, HealthResponse)
  live(): { data: HealthResponse } {
    return { data: { status: 'ok', checks: {} } };
  }

  @Get('ready')
  @ApiOperation({
    summary: "PostgreSQL and the queue backend answer (and Redis's maxmemory-policy is noeviction); 503 otherwise",
  })
  @ApiData(200, HealthResponse)
  @ApiErrors('unavailable')
  async ready(): Promise<{ data: HealthResponse }> {
    return { data: await this.health.ready() };
  }
}
