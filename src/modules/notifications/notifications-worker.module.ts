import { Module } from '@nestjs/common';

import { NotificationsModule } from './notifications.module.js';
import { NotificationDispatcher } from './notification.dispatcher.js';
import { NotificationsPruner } from './notifications.pruner.js';

/** Sending and pruning run in worker processes, like runs: API processes stay free for requests. */
@Module({
  imports: [NotificationsModule],
  providers: [NotificationDispatcher, NotificationsPruner],
})
export class NotificationsWorkerModule {}
