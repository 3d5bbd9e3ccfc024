/**
 * Event inspection. Prints Kafka messages decoded through the schema registry, with key,
 * partition, offset and headers.
 *
 *   npm run events -- tail <topic> [--from-beginning] [--max N] [--idle-seconds S]
 *   npm run events -- dlq [billing-service|order-service|notification-service]
 *   npm run events -- console <topic> [--from-beginning] [--max-messages N] [other ConsoleConsumer options]
 *     Kafka's own kafka-console-consumer, values decoded through the registry (scripts/events-console.ts)
 *   npm run events -- replay <group>.dlq (--event-id ID [--event-id ID…] | --all) [--dry-run]
 *
 * Reads KAFKA_BROKERS and SCHEMA_REGISTRY_URL (defaults: the local stack). tail and dlq join a
 * throwaway consumer group, so they never move the services' offsets.
 *
 * replay re-publishes dead letters to their original topic with their original key, value,
 * headers and event id; the dlq-* headers are dropped and `dead-letter-attempt` carries how often
 * the event was dead-lettered, so one that fails again comes back with dlq-attempt one higher.
 * The consumer's inbox makes a replay of an event that already took effect a no-op. What was
 * replayed is remembered in Kafka by the consumer group `eventflow-replay.<group>.dlq`: its
 * committed offset is the end of the replayed prefix, its commit metadata lists the replayed
 * offsets past it, so no later run re-publishes an entry twice.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer, type IHeaders, type KafkaMessage } from 'kafkajs';
import { EventCodec, consumerGroups, dlqTopicOf, kafkaConnection, namespaced } from '@eventflow/events';
import { toolKafkaSettings } from '@eventflow/system-harness';
import { runConsole } from './events-console.js';

// The operators' principal (ops) unless the environment names another; see toolKafkaSettings.
const connection = kafkaConnection(toolKafkaSettings());
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
  const kafka = new Kafka({ clientId: 'eventflow-inspect', ...connection, logLevel: logLevel.NOTHING });
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

/** Replayed offsets of one DLQ partition: all below `prefixEnd`, and `beyond`. Stored as "prefixEnd" + metadata "[o1,o2…]". */
interface ReplayState {
  prefixEnd: number;
  beyond: Set<number>;
}

const replayGroupOf = (dlq: string) => `eventflow-replay.${dlq}`;

function advance(state: ReplayState): { offset: string; metadata: string } {
  while (state.beyond.delete(state.prefixEnd)) state.prefixEnd += 1;
  return { offset: String(state.prefixEnd), metadata: JSON.stringify([...state.beyond].sort((a, b) => a - b)) };
}

interface DeadLetter {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Reads `topic` from where the consumer's group starts, up to the offset given per partition (exclusive). */
async function readDeadLetters(consumer: Consumer, topic: string, target: Map<number, number>, into: DeadLetter[]): Promise<void> {
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      const offset = Number(message.offset);
      if (offset < (target.get(partition) ?? 0)) into.push({ partition, offset, key: message.key, value: message.value, headers: headersOf(message) });
      if (offset + 1 >= (target.get(partition) ?? 0)) target.delete(partition);
      if (target.size === 0) finish();
    },
  });
  const timeout = setTimeout(finish, 60_000);
  await done;
  clearTimeout(timeout);
  if (target.size > 0) throw new Error(`could not read ${topic} to the end within 60 s (partitions ${[...target.keys()].join(', ')} unread)`);
}

async function replay(dlq: string, options: { eventIds: string[]; all: boolean; dryRun: boolean }): Promise<void> {
  const kafka = new Kafka({ clientId: 'eventflow-replay', ...connection, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const groupId = replayGroupOf(dlq);
  let entries: DeadLetter[] = [];
  const states = new Map<number, ReplayState>();
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  try {
    if (!(await admin.listTopics()).includes(dlq)) throw new Error(`no topic ${dlq}; dead-letter topics are <consumer group>.dlq`);
    const ends = await admin.fetchTopicOffsets(dlq);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [dlq] });
    for (const { partition, offset, metadata } of committed?.partitions ?? []) {
      const low = Number(ends.find((e) => e.partition === partition)?.low ?? 0);
      let beyond: number[] = [];
      try {
        beyond = metadata ? (JSON.parse(metadata) as number[]) : [];
      } catch {
        // metadata written by something else: only the offset counts
      }
      states.set(partition, { prefixEnd: Math.max(Number(offset) < 0 ? 0 : Number(offset), low), beyond: new Set(beyond) });
    }
    for (const { partition, low } of ends) if (!states.has(partition)) states.set(partition, { prefixEnd: Number(low), beyond: new Set() });
    const pending = ends.filter(({ partition, high }) => Number(high) > (states.get(partition)?.prefixEnd ?? 0));

    // Read from the replay group's committed offsets up to the end as of now.
    if (pending.length > 0) {
      await readDeadLetters(consumer, dlq, new Map(pending.map(({ partition, high }) => [partition, Number(high)])), entries);
      consumer.pause([{ topic: dlq }]);
    }
    // An event id asked for by name that lies in the replayed prefix is read too, with a throwaway
    // group, so that it is reported as already replayed rather than not found.
    const unseen = options.eventIds.filter((id) => !entries.some((e) => e.headers['event-id'] === id));
    const prefixes = [...states].filter(([partition, state]) => state.prefixEnd > Number(ends.find((e) => e.partition === partition)?.low ?? 0));
    if (unseen.length > 0 && prefixes.length > 0) {
      const earlier: DeadLetter[] = [];
      const reader = kafka.consumer({ groupId: `eventflow-inspect-${randomUUID()}` });
      try {
        await readDeadLetters(reader, dlq, new Map(prefixes.map(([partition, state]) => [partition, state.prefixEnd])), earlier);
      } finally {
        await reader.disconnect();
      }
      entries.push(...earlier.filter((e) => unseen.includes(e.headers['event-id'] ?? '')));
    }
    entries = entries.sort((a, b) => a.partition - b.partition || a.offset - b.offset);

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    if (!options.dryRun) await producer.connect();
    const report: Array<Record<string, string | number>> = [];
    const replayedNow = new Map<number, number[]>();
    for (const entry of entries) {
      const state = states.get(entry.partition)!;
      const h = entry.headers;
      const eventId = h['event-id'] ?? '';
      const selected = options.all || options.eventIds.includes(eventId);
      const already = entry.offset < state.prefixEnd || state.beyond.has(entry.offset);
      const originalTopic = h['dlq-original-topic'];
      let action: string;
      if (!selected) action = 'skipped (not selected)';
      else if (already) action = 'already replayed';
      else if (!originalTopic) action = 'skipped (no dlq-original-topic header)';
      else if (options.dryRun) action = `would replay to ${originalTopic}`;
      else {
        const headers: IHeaders = Object.fromEntries(Object.entries(h).filter(([name]) => !name.startsWith('dlq-')));
        headers['dead-letter-attempt'] = h['dlq-attempt'] ?? '1';
        headers['replayed-from'] = `${dlq}:${entry.partition}:${entry.offset}`;
        await producer.send({ topic: originalTopic, acks: -1, messages: [{ key: entry.key, value: entry.value, headers }] });
        replayedNow.set(entry.partition, [...(replayedNow.get(entry.partition) ?? []), entry.offset]);
        action = `replayed to ${originalTopic}`;
      }
      report.push({
        partition: entry.partition,
        offset: entry.offset,
        eventId,
        eventType: h['event-type'] ?? '?',
        attempt: h['dlq-attempt'] ?? '1',
        kind: h['dlq-error-kind'] ?? '?',
        error: (h['dlq-error'] ?? '').slice(0, 120),
        action,
      });
    }
    if (!options.dryRun) await producer.disconnect();
    // Remember what was replayed before saying so.
    if (replayedNow.size > 0) {
      await consumer.commitOffsets(
        [...replayedNow].map(([partition, offsets]) => {
          const state = states.get(partition)!;
          offsets.forEach((o) => state.beyond.add(o));
          return { topic: dlq, partition, ...advance(state) };
        }),
      );
    }
    for (const line of report) console.log(JSON.stringify(line));
    const count = (prefix: string) => report.filter((r) => String(r.action).startsWith(prefix)).length;
    const missing = options.eventIds.filter((id) => !entries.some((e) => e.headers['event-id'] === id));
    console.error(
      `${dlq}: ${entries.length} dead letter(s) read; ${count('replayed')} replayed, ${count('would replay')} would be replayed (dry run), ` +
        `${count('already replayed')} already replayed earlier, ${count('skipped')} skipped` +
        (missing.length > 0 ? `; not found: ${missing.join(', ')}` : ''),
    );
    if (missing.length > 0) process.exitCode = 1;
  } finally {
    await consumer.disconnect();
    await admin.disconnect();
  }
}

if (command === 'tail' && rest[0] && !rest[0].startsWith('--')) {
  await tail([rest[0]], { fromBeginning: flag('from-beginning'), max: option('max', Infinity), idleSeconds: option('idle-seconds', 0), decode: true });
} else if (command === 'dlq') {
  const groups = rest[0] && !rest[0].startsWith('--') ? [rest[0]] : Object.values(consumerGroups);
  // Dead letters keep the original bytes; they are shown decoded when possible, raw when not.
  await tail(groups.map((group) => dlqTopicOf(namespaced(group))), { fromBeginning: true, max: option('max', Infinity), idleSeconds: option('idle-seconds', 5), decode: true });
} else if (command === 'replay' && rest[0]?.endsWith('.dlq') && (flag('all') || rest.includes('--event-id'))) {
  const eventIds = rest.flatMap((arg, i) => (arg === '--event-id' && rest[i + 1] ? [rest[i + 1]!] : []));
  await replay(rest[0], { eventIds, all: flag('all'), dryRun: flag('dry-run') });
} else if (command === 'console' && rest[0] && !rest[0].startsWith('--')) {
  process.exitCode = await runConsole(rest[0], rest.slice(1));
} else {
  console.error(
    'usage: npm run events -- tail <topic> [--from-beginning] [--max N] [--idle-seconds S] | dlq [group] [--idle-seconds S]\n' +
      '       npm run events -- replay <group>.dlq (--event-id ID… | --all) [--dry-run]\n' +
      '       npm run events -- console <topic> [kafka-console-consumer options, e.g. --from-beginning --max-messages N]',
  );
  process.exit(2);
}
