/** billing-service: what is specific to it; @eventflow/service builds and runs the rest. */
import { serviceStreams } from '@eventflow/events';
import { runService } from '@eventflow/service';
import { buildApp } from './app.js';
import { Ledger } from './application/ledger.js';
import { loadBillingConfig } from './config.js';
import { billingHandlers } from './events/handlers.js';
import { paymentDecidedChannel } from './persistence/payments.js';
import { createDb } from './persistence/prisma.js';

const streams = serviceStreams['billing-service'];

await runService({
  name: 'billing-service',
  loadConfig: loadBillingConfig,
  database: createDb,
  parts: ({ name, config, db }) => ({ ledger: new Ledger(db, { producer: name, accountWaitMs: config.ACCOUNT_WAIT_MS }) }),
  // What it publishes and consumes is declared once, in the catalogue's serviceStreams (the broker's ACLs come from it too).
  publishes: { events: [...streams.publishes], lockKey: 0x0b111 },
  consumes: ({ ledger }) => ({ groupId: streams.consumes.group, topics: [...streams.consumes.topics], handlers: billingHandlers(ledger) }),
  // GET …/transactions?orderId= with Prefer: wait.
  preferWait: { channel: paymentDecidedChannel },
  app: buildApp,
});
