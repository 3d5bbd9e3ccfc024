/**
 * Event inspection. Prints Kafka messages decoded through the schema registry, with key,
 * partition, offset and headers.
 *
 *   npm run events -- tail <topic> [--from-beginning] [--max N] [--idle-seconds S]
 *   npm run events -- dlq [billing-service|order-service|notification-service]
 *
 * Reads KAFKA_BROKERS and SCHEMA_REGISTRY_URL (defaults: the local stack). It joins a throwaway
 * consumer group, so it never moves the services' offsets.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { EventCodec, consumerGroups, dlqTopicOf } from '@eventflow/events';

const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const codec = new EventCodec(process.env['SCHEMA_REGISTRY_URL'] ?? 'http://127.0.0.1:8081/apis/ccompat/v7');
const [command, ...rest] = process.argv.slice(2);
const flag = (name: string) => rest.includes(`--${name}`);
const option = (name: string, fallback: number) => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? Number(rest[i + 1]) : fallback;
};

const headersOf = (message: KafkaMessage) =>
  Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? String(v[0]) : String(v)]));

async function describe(message: KafkaMessage, decode: boolean): Promise<unknown> {
  if (!decode) return message.value?.toString('utf8');
  try {
    const { type, payload } = await codec.decode(message.value);
    return { type, payload: JSON.parse(JSON.stringify(payload)) as unknown };
  } catch (error) {
    return { undecodable: (error as Error).message, bytes: message.value?.toString('base64') };
  }
}

async function tail(topics: string[], options: { fromBeginning: boolean; max: number; idleSeconds: number; decode: boolean }) {
  const kafka = new Kafka({ clientId: 'eventflow-inspect', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `eventflow-inspect-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: options.fromBeginning });
  let seen = 0;
  let lastSeenAt = Date.now();
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      if (seen >= options.max) return;
      seen += 1;
      lastSeenAt = Date.now();
      const line = {
        topic,
        partition,
        offset: message.offset,
        timestamp: new Date(Number(message.timestamp)).toISOString(),
        key: message.key?.toString('utf8') ?? null,
        headers: headersOf(message),
        value: await describe(message, options.decode),
      };
      console.log(JSON.stringify(line));
      if (seen >= options.max) finish();
    },
  });
  // Stop when nothing new has arrived for a while (0 = follow until Ctrl-C).
  const idle = options.idleSeconds > 0 ? setInterval(() => Date.now() - lastSeenAt > options.idleSeconds * 1000 && finish(), 250) : undefined;
  process.once('SIGINT', finish);
  await done;
  clearInterval(idle);
  await consumer.disconnect();
  console.error(`${seen} message(s)`);
}

if (command === 'tail' && rest[0] && !rest[0].startsWith('--')) {
  await tail([rest[0]], { fromBeginning: flag('from-beginning'), max: option('max', Infinity), idleSeconds: option('idle-seconds', 0), decode: true });
} else if (command === 'dlq') {
  const groups = rest[0] && !rest[0].startsWith('--') ? [rest[0]] : Object.values(consumerGroups);
  // Dead letters keep the original bytes; they are shown decoded when possible, raw when not.
  await tail(groups.map(dlqTopicOf), { fromBeginning: true, max: option('max', Infinity), idleSeconds: option('idle-seconds', 5), decode: true });
} else {
  console.error('usage: npm run events -- tail <topic> [--from-beginning] [--max N] [--idle-seconds S] | dlq [group] [--idle-seconds S]');
  process.exit(2);
}
