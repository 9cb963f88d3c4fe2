import { type CustomDecorator, SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'hookrun:public';

/**
 * Lets a controller or route through the global API-key guard. Every route needs a key unless it says
 * this, so that a new controller is closed until someone decides otherwise.
 */
export const Public = (): CustomDecorator => SetMetadata(IS_PUBLIC, true);
