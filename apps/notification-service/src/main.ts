/** notification-service: what is specific to it; @eventflow/service builds and runs the rest. */
import { topics } from '@eventflow/events';
import { runService } from '@eventflow/service';
import { buildApp } from './app.js';
import { Mailbox, orderMessageChannel } from './application/mailbox.js';
import { loadNotificationConfig } from './config.js';
import { notificationConsumerGroup, notificationHandlers } from './events/handlers.js';
import { createDb } from './persistence/prisma.js';

await runService({
  name: 'notification-service',
  loadConfig: loadNotificationConfig,
  database: createDb,
  parts: ({ config, db }) => ({ mailbox: new Mailbox(db, { recipientWaitMs: config.RECIPIENT_WAIT_MS }) }),
  consumes: ({ mailbox }) => ({ groupId: notificationConsumerGroup, topics: [topics.userEvents, topics.orderEvents], handlers: notificationHandlers(mailbox) }),
  // GET /notifications/messages?orderId= with Prefer: wait.
  preferWait: { channel: orderMessageChannel },
  app: buildApp,
});
