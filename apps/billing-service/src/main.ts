/** billing-service: what is specific to it; @eventflow/service builds and runs the rest. */
import { topics } from '@eventflow/events';
import { runService } from '@eventflow/service';
import { buildApp } from './app.js';
import { Ledger } from './application/ledger.js';
import { loadBillingConfig } from './config.js';
import { billingConsumerGroup, billingHandlers } from './events/handlers.js';
import { paymentDecidedChannel } from './persistence/payments.js';
import { createDb } from './persistence/prisma.js';

await runService({
  name: 'billing-service',
  loadConfig: loadBillingConfig,
  database: createDb,
  parts: ({ name, config, db }) => ({ ledger: new Ledger(db, { producer: name, accountWaitMs: config.ACCOUNT_WAIT_MS }) }),
  publishes: { events: ['PaymentSucceeded', 'PaymentFailed'], lockKey: 0x0b111 },
  consumes: ({ ledger }) => ({ groupId: billingConsumerGroup, topics: [topics.userEvents, topics.orderEvents], handlers: billingHandlers(ledger, 'billing-service') }),
  // GET …/transactions?orderId= with Prefer: wait.
  preferWait: { channel: paymentDecidedChannel },
  app: buildApp,
});
