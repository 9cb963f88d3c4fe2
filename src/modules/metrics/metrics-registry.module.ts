import { Global, Module } from '@nestjs/common';

import { MetricsRegistry } from './metrics.registry.js';

/** The counters, for every module that counts; global so that counting needs no import. */
@Global()
@Module({ providers: [MetricsRegistry], exports: [MetricsRegistry] })
export class MetricsRegistryModule {}
