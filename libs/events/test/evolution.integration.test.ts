/**
 * OrderPaid gained `balanceAfter` (["null","long"], default null) in its version 2. While the
 * services are redeployed one by one, both versions meet in the topic: a consumer built on
 * version 1 reads events a new producer wrote, and a new consumer reads events an old producer
 * wrote before the upgrade. Both through the real Kafka and schema registry, each side resolving
 * the writer's schema (fetched by id) into its own reader schema as EventCodec does.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventMetadata, kafkaSettingsOf, stackSettings, waitFor } from '@eventflow/testing';
import { EventCodec, avroSchemaOf, kafkaConnection, namespaced, subjectOf, type OrderPaid } from '../src/index.js';

const { schemaRegistryUrl } = stackSettings();
/** OrderPaid as released before balanceAfter (the schemas/OrderPaid.avsc of that release, unchanged). */
const orderPaidV1 = readFileSync(new URL('./fixtures/OrderPaid.v1.avsc', import.meta.url), 'utf8');

const kafka = new Kafka({ clientId: 'evolution-test', ...kafkaConnection(kafkaSettingsOf('test')), logLevel: logLevel.NOTHING });
// A scratch topic and groups in the test namespace (`test.`), never among npm start's names.
const topic = namespaced(`evolution-${randomUUID()}`);
const admin = kafka.admin();
const producer = kafka.producer();

const paidBody = (balanceAfter?: number) => ({
  metadata: eventMetadata('OrderPaid', Date.now(), 'order-service'),
  orderId: randomUUID(),
  userId: randomUUID(),
  price: 7_500,
  paidAt: Date.now(),
  ...(balanceAfter === undefined ? {} : { balanceAfter }),
});

/** Over the REST API like EventCodec.register; an already registered version answers its existing id. */
async function registerVersion1(): Promise<number> {
  const response = await fetch(`${schemaRegistryUrl}/subjects/${encodeURIComponent(subjectOf('OrderPaid'))}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: orderPaidV1 }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return ((await response.json()) as { id: number }).id;
}

/** Everything on the scratch topic, as a consumer group that starts at the beginning sees it. */
async function consumeAll(count: number): Promise<Buffer[]> {
  const consumer = kafka.consumer({ groupId: namespaced(`evolution-${randomUUID()}`) });
  const values: Buffer[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value) values.push(message.value);
      },
    });
    await waitFor(`${count} messages on ${topic}`, async () => (values.length >= count ? true : undefined), { timeoutMs: 30_000 });
    return values;
  } finally {
    await consumer.disconnect();
  }
}

beforeAll(async () => {
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await producer.connect();
});
afterAll(async () => {
  await producer.disconnect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

describe('OrderPaid version 1 and version 2 in one topic', () => {
  it('version 2 adds only an optional field with a default', () => {
    const v1 = JSON.parse(orderPaidV1) as { fields: Array<{ name: string }> };
    const v2 = avroSchemaOf('OrderPaid');
    expect(v2.fields.map((f) => f.name)).toEqual([...v1.fields.map((f) => f.name), 'balanceAfter']);
    expect(v2.fields.at(-1)).toMatchObject({ name: 'balanceAfter', type: ['null', 'long'], default: null });
  });

  it('an old consumer reads new events, and a new consumer reads old events still in the topic', async () => {
    const codec = new EventCodec(schemaRegistryUrl);
    // The old producer: version 1 registered under the event's subject, as the previous release did.
    const v1Id = await registerVersion1();
    const oldEvent = paidBody();
    const newEvent: OrderPaid = { ...paidBody(2_500), balanceAfter: 2_500 };
    await producer.send({
      topic,
      messages: [
        { key: oldEvent.userId, value: await codec.registry.encode(v1Id, oldEvent) },
        { key: newEvent.userId, value: await codec.encode('OrderPaid', newEvent) },
      ],
    });
    const [oldBytes, newBytes] = await consumeAll(2);
    expect(oldBytes?.readInt32BE(1)).toBe(v1Id);
    expect(newBytes?.readInt32BE(1)).not.toBe(v1Id);

    // The new consumer (this build's reader schema, through EventCodec like every service).
    const newReader = new EventCodec(schemaRegistryUrl);
    const oldAsNew = await newReader.decode(oldBytes ?? null);
    expect(oldAsNew.type).toBe('OrderPaid');
    expect(JSON.parse(JSON.stringify(oldAsNew.payload))).toEqual({ ...oldEvent, balanceAfter: null });
    const newAsNew = await newReader.decode(newBytes ?? null);
    expect(JSON.parse(JSON.stringify(newAsNew.payload))).toEqual(newEvent);

    // The old consumer: version 1 as its reader schema; the new field is skipped.
    const oldReader = new EventCodec(schemaRegistryUrl).registry;
    const asOld = { [SchemaType.AVRO]: { readerSchema: orderPaidV1 as never } };
    const newAsOld = (await oldReader.decode(newBytes ?? Buffer.alloc(0), asOld)) as Record<string, unknown>;
    expect(JSON.parse(JSON.stringify(newAsOld))).toEqual(paidWithout(newEvent));
    expect(newAsOld).not.toHaveProperty('balanceAfter');
    expect(JSON.parse(JSON.stringify(await oldReader.decode(oldBytes ?? Buffer.alloc(0), asOld)))).toEqual(oldEvent);
  });
});

function paidWithout({ balanceAfter: _dropped, ...rest }: OrderPaid) {
  return rest;
}
