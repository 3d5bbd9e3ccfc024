/** user-service: what is specific to it; @eventflow/service builds and runs the rest. */
import { serviceStreams } from '@eventflow/events';
import { runService } from '@eventflow/service';
import { buildApp } from './app.js';
import { createTokenIssuer } from './application/tokens.js';
import { HashingSlots, Users } from './application/users.js';
import { loadUserConfig } from './config.js';
import { createDb } from './persistence/prisma.js';
import { postgresRateLimitCounter } from './persistence/rate-limits.js';

await runService({
  name: 'user-service',
  loadConfig: loadUserConfig,
  database: createDb,
  parts: async ({ name, config, db }) => {
    // Only user-service signs tokens; the runner gives every service the verifier.
    const issueToken = await createTokenIssuer({
      privateKeyPem: config.JWT_PRIVATE_KEY,
      publicKeys: config.JWT_PUBLIC_KEYS,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    });
    return {
      users: new Users(db, name, issueToken, new HashingSlots(config.ARGON2_MAX_CONCURRENT, config.ARGON2_MAX_QUEUE)),
      rateLimits: {
        loginAttemptsPerIp: config.LOGIN_ATTEMPTS_PER_IP,
        loginFailuresPerEmail: config.LOGIN_FAILURES_PER_EMAIL,
        registrationsPerIp: config.REGISTRATIONS_PER_IP,
        counter: postgresRateLimitCounter(db),
      },
    };
  },
  // A registration's UserCreated is published at once instead of at the next poll.
  // What it publishes is declared once, in the catalogue's serviceStreams (the broker's ACLs come from it too).
  publishes: { events: [...serviceStreams['user-service'].publishes], lockKey: 0x05e7, fromHttp: true },
  app: buildApp,
});
