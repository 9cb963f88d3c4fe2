import { type CustomDecorator, SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'hookrun:public';

/** Lets a controller or route through the global API-key guard. */
export const Public = (): CustomDecorator => SetMetadata(IS_PUBLIC, true);
