import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';

import { idOf } from '../../common/id-param.pipe.js';
import { ApiData, ApiErrors } from '../../common/openapi.decorator.js';
import { ListQueryDto, type Page } from '../../common/pagination.util.js';
import {
  CreateWorkflowDto,
  RestoreVersionDto,
  UpdateWorkflowDto,
  WorkflowResponse,
  WorkflowVersionResponse,
} from './dto/workflow.dto.js';
import { WorkflowsService } from './workflows.service.js';

@ApiTags('Workflows')
@ApiBearerAuth()
@ApiErrors('unauthorized')
@Controller('v1/workflows')
export class WorkflowsController {
  constructor(private readonly workflows: WorkflowsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a workflow' })
  @ApiData(201, WorkflowResponse)
  @ApiErrors('validation_failed', 'invalid_json', 'invalid_definition', 'unsupported_media_type')
  async create(@Body() body: CreateWorkflowDto): Promise<{ data: WorkflowResponse }> {
    return { data: await this.workflows.create(body) };
  }

  @Get()
  @ApiOperation({ summary: 'List workflows, newest first' })
  @ApiData(200, WorkflowResponse, { list: true })
  @ApiErrors('validation_failed')
  list(@Query() query: ListQueryDto): Promise<Page<WorkflowResponse>> {
    return this.workflows.list(query.limit ?? 20, query.cursor);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a workflow' })
  @ApiData(200, WorkflowResponse)
  @ApiErrors('workflow_not_found')
  async get(@Param('id', idOf('workflow')) id: string): Promise<{ data: WorkflowResponse }> {
    return { data: await this.workflows.get(id) };
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a workflow; a new definition makes a new version' })
  @ApiData(200, WorkflowResponse)
  @ApiErrors('workflow_not_found', 'validation_failed', 'invalid_json', 'invalid_definition', 'unsupported_media_type')
  async update(
    @Param('id', idOf('workflow')) id: string,
    @Body() body: UpdateWorkflowDto,
  ): Promise<{ data: WorkflowResponse }> {
    return { data: await this.workflows.update(id, body) };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a workflow; its trigger stops answering and its runs stay readable' })
  @ApiErrors('workflow_not_found')
  delete(@Param('id', idOf('workflow')) id: string): Promise<void> {
    return this.workflows.delete(id);
  }

  @Get(':id/versions')
  @ApiOperation({ summary: "List a workflow's versions, newest first" })
  @ApiData(200, WorkflowVersionResponse, { list: true })
  @ApiErrors('workflow_not_found', 'validation_failed')
  listVersions(
    @Param('id', idOf('workflow')) id: string,
    @Query() query: ListQueryDto,
  ): Promise<Page<WorkflowVersionResponse>> {
    return this.workflows.listVersions(id, query.limit ?? 20, query.cursor);
  }

  @Post(':id/versions/restore')
  @HttpCode(200)
  @ApiOperation({ summary: 'Make an old definition current again, as a new version' })
  @ApiData(200, WorkflowResponse)
  @ApiErrors('workflow_not_found', 'version_not_found', 'validation_failed', 'invalid_json', 'unsupported_media_type')
  async restore(
    @Param('id', idOf('workflow')) id: string,
    @Body() body: RestoreVersionDto,
  ): Promise<{ data: WorkflowResponse }> {
    return { data: await this.workflows.restoreVersion(id, body.version) };
  }
}
