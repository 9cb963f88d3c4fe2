import { Injectable, type PipeTransform } from '@nestjs/common';

import { NotFoundError, type NotFoundResource } from './domain.error.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id that is not a UUID names nothing: it answers `404 <resource>_not_found`, like an unknown one. */
@Injectable()
class IdParamPipe implements PipeTransform<string, string> {
  constructor(private readonly resource: NotFoundResource) {}

  transform(value: string): string {
    if (!UUID.test(value)) throw new NotFoundError(this.resource);
    return value.toLowerCase();
  }
}

export const idOf = (resource: NotFoundResource): IdParamPipe => new IdParamPipe(resource);
