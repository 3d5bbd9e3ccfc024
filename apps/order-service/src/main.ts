/** order-service: what is specific to it; @eventflow/service builds and runs the rest. */
import { serviceStreams, topics } from '@eventflow/events';
import { runService } from '@eventflow/service';
import { buildApp } from './app.js';
import { Orders, orderSettledChannel } from './application/orders.js';
import { loadOrderConfig } from './config.js';
import { orderConsumerGroup, orderHandlers } from './events/handlers.js';
import { createPlacementDb } from './persistence/placements.js';
import { createDb } from './persistence/prisma.js';

const streams = serviceStreams['order-service'];

await runService({
  name: 'order-service',
  loadConfig: loadOrderConfig,
  database: createDb,
  parts: ({ name, config, db }) => {
    const placements = createPlacementDb(config.DATABASE_URL, name);
    return { placements, orders: new Orders(db, placements, name) };
  },
  // A placed order is published at once instead of at the next poll.
  // What it publishes and consumes is declared once, in the catalogue's serviceStreams (the broker's ACLs come from it too).
  publishes: { events: [...streams.publishes], lockKey: 0x0de5, fromHttp: true },
  consumes: ({ orders }) => ({ groupId: streams.consumes.group, topics: [...streams.consumes.topics], handlers: orderHandlers(orders) }),
  // GET /orders/{id} with Prefer: wait.
  preferWait: { channel: orderSettledChannel },
  // Past a backlog in the order flow, new orders are refused at once instead of queueing without bound.
  admission: (config) => ({
    route: { method: 'POST', url: '/orders' },
    what: 'new orders',
    maxBacklogMs: config.ADMISSION_MAX_BACKLOG_MS,
    groups: [
      // The consumers an order passes through before it is settled (their group ids are the services' names).
      { groupId: 'billing-service', topics: [topics.orderEvents] },
      { groupId: orderConsumerGroup, topics: [topics.paymentEvents] },
      { groupId: 'notification-service', topics: [topics.orderEvents] },
    ],
  }),
  app: async ({ placements, ...deps }) => {
    const app = await buildApp(deps);
    // Closed after the server stopped taking requests; pg ends busy connections once their statement is done.
    app.addHook('onClose', () => placements.$disconnect());
    return app;
  },
});
