/**
 * Creates or updates the declared topics and registers the current event schemas. Run by
 * `npm start`, by the test harness and by the Helm chart's provisioning Job; safe to repeat.
 */
import { Kafka, logLevel } from 'kafkajs';
import { Type } from 'typebox';
import { loadConfig, splitList } from '@eventflow/platform';
import { EventCodec } from '../codec.js';
import { provisionTopics } from '../topology.js';

export const provisionConfigSchema = Type.Object({
  KAFKA_BROKERS: Type.String({ minLength: 1 }),
  SCHEMA_REGISTRY_URL: Type.String({ pattern: '^https?://' }),
  TOPIC_PARTITIONS: Type.Integer({ minimum: 1, maximum: 1_000, default: 3 }),
  TOPIC_REPLICATION_FACTOR: Type.Integer({ minimum: 1, maximum: 10, default: 1 }),
  TOPIC_MIN_INSYNC_REPLICAS: Type.Integer({ minimum: 1, maximum: 10, default: 1 }),
});

export async function provision(env: Record<string, string | undefined> = process.env) {
  const config = loadConfig('provision', provisionConfigSchema, env);
  const kafka = new Kafka({ clientId: 'eventflow-provision', brokers: splitList(config.KAFKA_BROKERS), logLevel: logLevel.WARN });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = await provisionTopics(admin, {
      partitions: config.TOPIC_PARTITIONS,
      replicationFactor: config.TOPIC_REPLICATION_FACTOR,
      minInsyncReplicas: config.TOPIC_MIN_INSYNC_REPLICAS,
    });
    const subjects = await new EventCodec(config.SCHEMA_REGISTRY_URL).registerAll();
    return { topics, subjects };
  } finally {
    await admin.disconnect();
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  provision()
    .then((report) => {
      console.log(JSON.stringify(report, null, 2));
    })
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    });
}
