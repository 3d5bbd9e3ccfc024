/**
 * `npm run events -- console <topic>`: Kafka's own console consumer (a JVM, classpath resolved
 * from Maven Central into the download cache) decodes a fresh OrderPlaced, written by this
 * library's codec in the services' wire format, through the real registry. A scratch topic, so no
 * service consumes the test's event.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventMetadata, kafkaSettingsOf, stackSettings } from '@eventflow/testing';
import { EventCodec, kafkaConnection, namespaced, type OrderPlaced } from '../src/index.js';

const repoRoot = new URL('../../../', import.meta.url).pathname;
const { schemaRegistryUrl, kafkaBrokers } = stackSettings();
const kafka = new Kafka({ clientId: 'console-consumer-test', ...kafkaConnection(kafkaSettingsOf('test')), logLevel: logLevel.NOTHING });
const admin = kafka.admin();
// A scratch topic in the test namespace (`test.`), deleted at the end.
const topic = namespaced(`console-${randomUUID()}`);

beforeAll(async () => {
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
});
afterAll(async () => {
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

describe('Kafka console consumer with the registry deserializer', () => {
  // The first run on a machine resolves about 40 MB of jars with Maven.
  it('prints a fresh OrderPlaced decoded to JSON, with partition, offset, headers and key', { timeout: 300_000 }, async () => {
    const event: OrderPlaced = {
      metadata: eventMetadata('OrderPlaced', Date.now(), 'order-service'),
      orderId: randomUUID(),
      userId: randomUUID(),
      price: 4_200,
      placedAt: Date.now(),
    };
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [{ key: event.userId, value: await new EventCodec(schemaRegistryUrl).encode('OrderPlaced', event), headers: { 'event-type': 'OrderPlaced', 'event-id': event.metadata.eventId } }],
    });
    await producer.disconnect();

    const run = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts', 'events.ts'), 'console', topic, '--from-beginning', '--max-messages', '1', '--timeout-ms', '60000'], {
      cwd: repoRoot,
      encoding: 'utf8',
      // The console authenticates as the test principal, which owns the test.-prefixed topic it reads.
      env: { ...process.env, ...kafkaSettingsOf('test'), KAFKA_BROKERS: kafkaBrokers, SCHEMA_REGISTRY_URL: schemaRegistryUrl },
      timeout: 280_000,
    });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.status, output).toBe(0);
    // The exact command is printed before it runs.
    expect(run.stderr).toMatch(/^java -cp '?\S+\/\*'? org\.apache\.kafka\.tools\.consumer\.ConsoleConsumer --bootstrap-server \S+ --topic (test\.)?console-/m);
    expect(run.stderr).toContain('value.deserializer=io.apicurio.registry.serde.avro.AvroKafkaDeserializer');

    const line = run.stdout.split('\n').find((l) => l.includes(event.orderId));
    expect(line, output).toBeDefined();
    // DefaultMessageFormatter: Partition:<p>\tOffset:<o>\t<headers>\t<key>\t<value>
    const [partition, offset, headers, key, value] = (line ?? '').split('\t');
    expect([partition, offset, key]).toEqual(['Partition:0', 'Offset:0', event.userId]);
    expect(headers).toContain('event-type:OrderPlaced');
    expect(headers).toContain(`event-id:${event.metadata.eventId}`);
    // Decoded, not raw Avro: the whole record as JSON.
    expect(JSON.parse(value ?? '')).toEqual(event);
  });
});
