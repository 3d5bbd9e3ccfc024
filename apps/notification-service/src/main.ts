/** notification-service: what is specific to it; @eventflow/service builds and runs the rest. */
import { serviceStreams } from '@eventflow/events';
import { runService } from '@eventflow/service';
import { buildApp } from './app.js';
import { Mailbox, orderMessageChannel } from './application/mailbox.js';
import { loadNotificationConfig } from './config.js';
import { notificationHandlers } from './events/handlers.js';
import { createDb } from './persistence/prisma.js';

const streams = serviceStreams['notification-service'];

await runService({
  name: 'notification-service',
  loadConfig: loadNotificationConfig,
  database: createDb,
  parts: ({ config, db }) => ({ mailbox: new Mailbox(db, { recipientWaitMs: config.RECIPIENT_WAIT_MS }) }),
  // What it consumes is declared once, in the catalogue's serviceStreams (the broker's ACLs come from it too).
  consumes: ({ mailbox }) => ({ groupId: streams.consumes.group, topics: [...streams.consumes.topics], handlers: notificationHandlers(mailbox) }),
  // GET /notifications/messages?orderId= with Prefer: wait.
  preferWait: { channel: orderMessageChannel },
  app: buildApp,
});
