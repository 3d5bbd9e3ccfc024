/**
 * Who may write what, on the running system: the broker refuses events from a principal the
 * catalogue does not let publish them (so a compromised notification pod cannot charge a user or
 * settle an unpaid order), a service with wrong Kafka credentials stays up and says why it is not
 * ready, and the registry the services are given refuses every write.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { EventCodec, eventTopics, kafkaConnection, namespaced, subjectOf, type OrderPlaced, type PaymentSucceeded } from '@eventflow/events';
import { ensureJwtKeys, serviceEnv, serviceSpec, stackEnv, startReadyService, startService, stopService } from '@eventflow/system-harness';
import { eventMetadata, kafkaSettingsOf, waitFor } from '@eventflow/testing';
import { balanceOf, deposit, newUser, orderOf, placeOrder, waitForFinalOrder } from './support.js';

const stack = stackEnv();
const codec = new EventCodec(stack['SCHEMA_REGISTRY_URL'] ?? '');

/** Sends one event as `principal`; resolves to the broker's refusal (the whole error chain), or undefined when it was written. */
async function sendAs(principal: string, topic: string, key: string, value: Buffer): Promise<string | undefined> {
  const kafka = new Kafka({ clientId: `forger-${principal}`, ...kafkaConnection(kafkaSettingsOf(principal, stack)), logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [{ key, value }] });
    return undefined;
  } catch (error) {
    const chain: string[] = [];
    for (let cause: unknown = error; cause instanceof Error; cause = (cause as { cause?: unknown }).cause) chain.push(`${cause.name} ${(cause as { type?: string }).type ?? ''} ${cause.message}`);
    return chain.join(' <- ');
  } finally {
    await producer.disconnect();
  }
}

describe('Kafka ACLs from the event catalogue', () => {
  it('refuses OrderPlaced and PaymentSucceeded forged by the notification principal: nothing is charged or settled', async () => {
    const user = await newUser();
    await deposit(user, 10_000);

    // A forged order that would charge the user 5000.
    const forgedOrder: OrderPlaced = { metadata: eventMetadata('OrderPlaced', Date.now(), 'order-service'), orderId: randomUUID(), userId: user.id, price: 5_000, placedAt: Date.now() };
    const orderRefusal = await sendAs('notification-service', namespaced(eventTopics.OrderPlaced), user.id, await codec.encode('OrderPlaced', forgedOrder));
    expect(orderRefusal).toMatch(/TOPIC_AUTHORIZATION_FAILED|Topic authorization failed/);

    // A real order left unpaid (billing stopped), and a forged PaymentSucceeded that would mark it PAID.
    await stopService('billing-service');
    let orderId: string;
    try {
      const order = await placeOrder(user, 1_000);
      orderId = order.id;
      const forgedPayment: PaymentSucceeded = {
        metadata: eventMetadata('PaymentSucceeded', Date.now(), 'billing-service'),
        orderId: order.id,
        userId: user.id,
        amount: 1_000,
        balanceAfter: 9_000,
      };
      for (const principal of ['notification-service', 'order-service']) {
        const refusal = await sendAs(principal, namespaced(eventTopics.PaymentSucceeded), user.id, await codec.encode('PaymentSucceeded', forgedPayment));
        expect(refusal, `${principal} writing PaymentSucceeded`).toMatch(/TOPIC_AUTHORIZATION_FAILED|Topic authorization failed/);
      }
      expect((await orderOf(user, order.id)).status).toBe('PENDING_PAYMENT');
    } finally {
      await startReadyService('billing-service');
    }
    // Billing then settles the real order, from the same user's partition the forged OrderPlaced
    // would have been in before it: only the real 1000 is ever charged.
    expect((await waitForFinalOrder(user, orderId, 60_000)).status).toBe('PAID');
    expect(await balanceOf(user)).toBe(9_000);
  });

  it('lets only provisioning create topics', async () => {
    for (const principal of ['order-service', 'ops']) {
      const admin = new Kafka({ clientId: 'creator', ...kafkaConnection(kafkaSettingsOf(principal, stack)), logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
      await admin.connect();
      try {
        await expect(admin.createTopics({ topics: [{ topic: namespaced(`forged-${randomUUID()}`) }] }), principal).rejects.toThrow();
      } finally {
        await admin.disconnect();
      }
    }
  });

  it('keeps a service with wrong Kafka credentials up and not ready, saying why in its log', async () => {
    const spec = serviceSpec('notification-service');
    const env = { ...serviceEnv(spec, stack, ensureJwtKeys()), KAFKA_SASL_PASSWORD: 'not-the-password' };
    const replica = startService(spec, env, { instance: { name: 'wrong-credentials', port: 3024 } });
    try {
      const baseUrl = `http://127.0.0.1:${replica.spec.port}`;
      const ready = await waitFor(
        'the replica with wrong credentials to report why it is not ready',
        async () => {
          const response = await fetch(`${baseUrl}/health/ready`).catch(() => undefined);
          const body = response ? ((await response.json()) as { status: string; checks: Record<string, string> }) : undefined;
          return body?.checks['messaging']?.includes('refused the credentials') ? { status: response?.status, body } : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      expect(ready.status).toBe(503);
      expect(ready.body.checks['messaging']).toContain('principal notification-service');
      const log = readFileSync(replica.logFile, 'utf8');
      expect(log).toMatch(/Kafka refused the credentials of principal notification-service \(SASL authentication failed\)/);
      // Still alive and answering (no crash loop): the probe keeps saying why.
      expect((await fetch(`${baseUrl}/health/live`)).status).toBe(200);
    } finally {
      await stopService(replica.id);
    }
  });
});

describe('schema registry: services read, only provisioning writes', () => {
  const servicesRegistry = stack['SCHEMA_REGISTRY_URL'] ?? '';
  const json = { 'content-type': 'application/vnd.schemaregistry.v1+json' };

  it('is a read-only instance for the services: lookups work, registering and changing compatibility are refused', async () => {
    const subject = encodeURIComponent(subjectOf('OrderPlaced'));
    const versions = await fetch(`${servicesRegistry}/subjects/${subject}/versions`);
    expect(versions.status).toBe(200);
    const before = (await versions.json()) as number[];

    const forged = { type: 'record', name: 'OrderPlaced', namespace: 'io.eventflow.orders', fields: [{ name: 'anything', type: 'string', default: '' }] };
    const register = await fetch(`${servicesRegistry}/subjects/${subject}/versions`, { method: 'POST', headers: json, body: JSON.stringify({ schema: JSON.stringify(forged) }) });
    expect(register.status).toBe(409);
    expect(await register.text()).toMatch(/read-only/);
    const compatibility = await fetch(`${servicesRegistry}/config/${subject}`, { method: 'PUT', headers: json, body: JSON.stringify({ compatibility: 'NONE' }) });
    expect(compatibility.status).toBe(409);
    const remove = await fetch(`${servicesRegistry}/subjects/${subject}`, { method: 'DELETE' });
    expect(remove.status).toBe(409);

    expect(await (await fetch(`${servicesRegistry}/subjects/${subject}/versions`)).json()).toEqual(before);
    // What the services do with it: look the id of this build's schema up.
    expect(await new EventCodec(servicesRegistry).idOf('OrderPlaced')).toBeGreaterThan(0);
  });
});
