/**
 * Writes each service's OpenAPI 3.1 document, generated from its Fastify route schemas, to
 * docs/api/<service>.openapi.json. With --check it writes nothing and fails when a committed
 * document differs from what the code describes.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@eventflow/platform';
import type { HttpServer, TokenVerifier } from '@eventflow/http';
import { buildApp as billingApp } from '@eventflow/billing-service/app';
import { buildApp as notificationApp } from '@eventflow/notification-service/app';
import { buildApp as orderApp } from '@eventflow/order-service/app';
import { buildApp as userApp } from '@eventflow/user-service/app';
import { repoRoot } from '@eventflow/system-harness';

// Only the routes are needed: the use cases are never called while the document is generated.
const unused = {} as never;
const common = {
  logger: createLogger('openapi', 'silent'),
  verifyToken: (async () => unused) as TokenVerifier,
  readiness: [],
  bodyLimit: 16_384,
};

const apps: Record<string, () => Promise<HttpServer>> = {
  'user-service': () => userApp({ ...common, users: unused }),
  'billing-service': () => billingApp({ ...common, ledger: unused }),
  'order-service': () => orderApp({ ...common, orders: unused }),
  'notification-service': () => notificationApp({ ...common, mailbox: unused }),
};

const check = process.argv.includes('--check');
const stale: string[] = [];
for (const [service, build] of Object.entries(apps)) {
  const app = await build();
  await app.ready();
  const document = `${JSON.stringify(app.swagger(), null, 2)}\n`;
  await app.close();
  const file = join(repoRoot, 'docs', 'api', `${service}.openapi.json`);
  if (check) {
    if (!existsSync(file) || readFileSync(file, 'utf8') !== document) stale.push(file);
  } else {
    writeFileSync(file, document);
    console.log(`wrote ${file}`);
  }
}
if (stale.length > 0) {
  console.error(`OpenAPI documents differ from the code; run npm run openapi and commit:\n${stale.map((f) => `  ${f}`).join('\n')}`);
  process.exit(1);
}
if (check) console.log('OpenAPI documents match the route schemas');
