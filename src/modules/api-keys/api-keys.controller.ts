import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';

import { idOf } from '../../common/id-param.pipe.js';
import { ApiData, ApiErrors } from '../../common/openapi.decorator.js';
import { ListQueryDto, type Page } from '../../common/pagination.util.js';
import { ApiKeysService } from './api-keys.service.js';
import { ApiKeyResponse, CreateApiKeyDto, CreatedApiKeyResponse } from './dto/api-key.dto.js';

@ApiTags('API keys')
@ApiBearerAuth()
@ApiErrors('unauthorized')
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Post()
  @ApiOperation({ summary: 'Create an API key (the key is shown only in this response)' })
  @ApiData(201, CreatedApiKeyResponse)
  @ApiErrors('validation_failed', 'invalid_json', 'unsupported_media_type')
  async create(@Body() body: CreateApiKeyDto): Promise<{ data: CreatedApiKeyResponse }> {
    return { data: await this.apiKeys.create(body.name) };
  }

  @Get()
  @ApiOperation({ summary: 'List API keys, newest first (never the keys themselves)' })
  @ApiData(200, ApiKeyResponse, { list: true })
  @ApiErrors('validation_failed')
  list(@Query() query: ListQueryDto): Promise<Page<ApiKeyResponse>> {
    return this.apiKeys.list(query.limit ?? 20, query.cursor);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an API key; it stops working at once' })
  @ApiErrors('api_key_not_found')
  delete(@Param('id', idOf('api_key')) id: string): Promise<void> {
    return this.apiKeys.delete(id);
  }
}
