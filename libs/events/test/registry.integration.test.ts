import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { PoisonMessageError } from '@eventflow/platform';
import { kafkaSettingsOf, stackSettings } from '@eventflow/testing';
import { EventCodec, avroSchemaOf, declaredTopics, kafkaConnection, namespaced, provisionTopics, subjectOf, type OrderPlaced } from '../src/index.js';

const { schemaRegistryUrl } = stackSettings();

const orderPlaced = (): OrderPlaced => ({
  metadata: { eventId: randomUUID(), eventType: 'OrderPlaced', occurredAt: Date.now(), correlationId: 'c', causationId: null, producer: 'test' },
  orderId: randomUUID(),
  userId: randomUUID(),
  price: 4_200,
  placedAt: Date.now(),
});

async function registry(method: string, path: string, body?: unknown) {
  const response = await fetch(`${schemaRegistryUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('events through the real schema registry', () => {
  it('registers every event under BACKWARD compatibility, idempotently', async () => {
    const codec = new EventCodec(schemaRegistryUrl);
    const first = await codec.registerAll();
    const second = await new EventCodec(schemaRegistryUrl).registerAll();
    expect(second).toEqual(first);
    expect(Object.keys(first)).toContain(subjectOf('OrderPlaced'));
    expect((await registry('GET', `/config/${encodeURIComponent(subjectOf('OrderPlaced'))}`)).body).toMatchObject({ compatibilityLevel: 'BACKWARD' });
  });

  it('round-trips an event in Confluent wire format, decodable by a fresh codec that only knows the id', async () => {
    const event = orderPlaced();
    const buffer = await new EventCodec(schemaRegistryUrl).encode('OrderPlaced', event);
    expect(buffer.readUInt8(0)).toBe(0);
    const decoded = await new EventCodec(schemaRegistryUrl).decode(buffer);
    expect(decoded.type).toBe('OrderPlaced');
    expect(JSON.parse(JSON.stringify(decoded.payload))).toEqual(event);
  });

  it('rejects bytes that are not an event as poison', async () => {
    const codec = new EventCodec(schemaRegistryUrl);
    await expect(codec.decode(Buffer.from('plain text'))).rejects.toBeInstanceOf(PoisonMessageError);
    await expect(codec.decode(null)).rejects.toBeInstanceOf(PoisonMessageError);
    const unknownId = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 1, 2]);
    await expect(codec.decode(unknownId)).rejects.toBeInstanceOf(PoisonMessageError);
  });

  it('accepts a backward-compatible evolution of a schema and refuses a breaking one', async () => {
    // A subject of its own in the test namespace, so the real subjects keep their history; deleted at the end.
    const subject = encodeURIComponent(namespaced(`compat-check-${randomUUID()}`));
    onTestFinished(async () => {
      // Soft delete, then permanently (Confluent's two-step API, which the registry follows).
      for (const path of [`/subjects/${subject}`, `/subjects/${subject}?permanent=true`]) {
        const response = await fetch(`${schemaRegistryUrl}${path}`, { method: 'DELETE' });
        expect(response.status, `DELETE ${path}`).toBe(200);
      }
    });
    const base = avroSchemaOf('OrderPlaced');
    expect((await registry('POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(base) })).status).toBe(200);
    expect((await registry('PUT', `/config/${subject}`, { compatibility: 'BACKWARD' })).status).toBe(200);

    const withDefault = { ...base, fields: [...base.fields, { name: 'currency', type: 'string', default: 'EUR', doc: 'ISO 4217 code.' }] };
    expect((await registry('POST', `/compatibility/subjects/${subject}/versions/latest`, { schema: JSON.stringify(withDefault) })).body).toMatchObject({
      is_compatible: true,
    });
    expect((await registry('POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(withDefault) })).status).toBe(200);

    const withoutDefault = { ...base, fields: [...base.fields, { name: 'discount', type: 'long', doc: 'New required field.' }] };
    expect((await registry('POST', `/compatibility/subjects/${subject}/versions/latest`, { schema: JSON.stringify(withoutDefault) })).body).toMatchObject({
      is_compatible: false,
    });
    expect((await registry('POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(withoutDefault) })).status).toBe(409);
  });

  it('every current schema is compatible with what is registered', async () => {
    for (const type of ['UserCreated', 'OrderPlaced', 'OrderPaid', 'OrderPaymentFailed', 'PaymentSucceeded', 'PaymentFailed'] as const) {
      const answer = await registry('POST', `/compatibility/subjects/${encodeURIComponent(subjectOf(type))}/versions/latest`, {
        schema: JSON.stringify(avroSchemaOf(type)),
      });
      expect(answer.body, type).toMatchObject({ is_compatible: true });
    }
  });
});

describe('topic provisioning on the real Kafka', () => {
  it('creates what is missing and is a no-op the second time', async () => {
    // Creating and altering topics is provisioning's right alone.
    const kafka = new Kafka({ clientId: 'topology-test', ...kafkaConnection(kafkaSettingsOf('provision')), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const options = { partitions: 3, replicationFactor: 1, minInsyncReplicas: 1 };
      await provisionTopics(admin, options);
      const again = await provisionTopics(admin, options);
      expect(again.created).toEqual([]);
      expect(again.partitionsIncreased).toEqual([]);
      const metadata = await admin.fetchTopicMetadata({ topics: declaredTopics(options).map((t) => t.topic) });
      for (const topic of metadata.topics) {
        const declared = declaredTopics(options).find((t) => t.topic === topic.name);
        expect(topic.partitions, topic.name).toHaveLength(declared?.numPartitions ?? 0);
      }
    } finally {
      await admin.disconnect();
    }
  });
});
