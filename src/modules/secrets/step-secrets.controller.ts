import { Body, Controller, Delete, Get, HttpCode, Param, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';

import { ApiData, ApiErrors } from '../../common/openapi.decorator.js';
import { ListQueryDto, type Page } from '../../common/pagination.util.js';
import { PutStepSecretDto, StepSecretResponse } from './dto/step-secret.dto.js';
import { StepSecretsService } from './step-secrets.service.js';

const NAME_PARAM = {
  name: 'name',
  description: 'An upper-case letter, then up to 63 upper-case letters, digits or "_"',
  example: 'CRM_TOKEN',
};

@ApiTags('Secrets')
@ApiBearerAuth()
@ApiErrors('unauthorized')
@Controller('v1/secrets')
export class StepSecretsController {
  constructor(private readonly secrets: StepSecretsService) {}

  @Put(':name')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Create (201) or replace (200) a secret for http steps; the value is never shown again',
    description:
      'Steps that run after the answer use the new value, in every process. Reference it as `{{ secrets.NAME }}` ' +
      'in an http step\'s url and header values, or `$secret("NAME")` in its body.',
  })
  @ApiParam(NAME_PARAM)
  @ApiData(201, StepSecretResponse, { description: 'Created' })
  @ApiData(200, StepSecretResponse, { description: 'Replaced' })
  @ApiErrors('validation_failed', 'invalid_json', 'unsupported_media_type')
  async put(
    @Param('name') name: string,
    @Body() body: PutStepSecretDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ data: StepSecretResponse }> {
    const { secret, created } = await this.secrets.put(name, body.value);
    if (created) res.status(201);
    return { data: secret };
  }

  @Get()
  @ApiOperation({ summary: 'List secrets by name (never their values)' })
  @ApiData(200, StepSecretResponse, { list: true })
  @ApiErrors('validation_failed')
  list(@Query() query: ListQueryDto): Promise<Page<StepSecretResponse>> {
    return this.secrets.list(query.limit ?? 20, query.cursor);
  }

  @Get(':name')
  @ApiOperation({ summary: 'Get a secret: its name, times and the workflows that use it (never its value)' })
  @ApiParam(NAME_PARAM)
  @ApiData(200, StepSecretResponse)
  @ApiErrors('secret_not_found')
  async get(@Param('name') name: string): Promise<{ data: StepSecretResponse }> {
    return { data: await this.secrets.get(name) };
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ summary: "Delete a secret; refused while a workflow's current definition uses it" })
  @ApiParam(NAME_PARAM)
  @ApiErrors('secret_not_found', 'secret_in_use')
  delete(@Param('name') name: string): Promise<void> {
    return this.secrets.delete(name);
  }
}
