import { ApiProperty } from '@nestjs/swagger';

export class FilteredWebhookResponse {
  /** The trigger's `filter` was not truthy for this delivery: no run started, and it is logged `filtered`. */
  @ApiProperty({ enum: [true], example: true })
  filtered: true;
}
