import type { Admin, Kafka, Producer } from 'kafkajs';
import { EventCodec, isKafkaAuthenticationError, namespaced, type EventType } from '@eventflow/events';
import type { Logger } from '@eventflow/platform';
import { EventConsumer, type GroupTiming } from './consumer.js';
import type { EventHandlers } from './consuming/handlers.js';
import type { RetryPolicy } from './consuming/retry.js';
import { createKafka } from './kafka.js';
import { pruneMessagingTables } from './maintenance.js';
import { consumerLag, outboxBacklog, outboxOldestAge } from './metrics.js';
import { OutboxRelay } from './outbox.js';
import type { SqlExecutor, TransactionalDb } from './sql.js';

export interface Check {
  name: string;
  check: () => Promise<void>;
  /** Needed to serve HTTP (default true); see ReadinessCheck in @eventflow/http. */
  critical?: boolean;
}

/**
 * The validated settings the Kafka side reads (a subset of every service's config; see
 * commonConfigSchema). Clients are built from these here, so a new Kafka or registry setting
 * (credentials, TLS) is added in this library and the config schema, not in each service.
 */
export interface MessagingConfig {
  KAFKA_BROKERS: string;
  /** SASL/SCRAM credentials of the service's own principal (see commonConfigSchema). */
  KAFKA_SASL_MECHANISM?: string | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: string | undefined;
  SCHEMA_REGISTRY_URL: string;
  /** Needed by services that publish events. */
  OUTBOX_POLL_INTERVAL_MS?: number;
  OUTBOX_BATCH_SIZE?: number;
  /** Read by services that consume events (default: defaultMaxBatchSize). */
  CONSUMER_BATCH_SIZE?: number;
}

export interface MessagingOptions<TX extends SqlExecutor> {
  service: string;
  config: MessagingConfig;
  logger: Logger;
  db: TransactionalDb<TX> & TransactionalDb<SqlExecutor>;
  /** Present in services that publish events: the event types and the relay's advisory-lock key. */
  outbox?: { lockKey: number; publishes: EventType[] };
  /** Present in services that consume events. */
  consumer?: { groupId: string; topics: string[]; handlers: EventHandlers<TX>; retry?: Partial<RetryPolicy>; group?: Partial<GroupTiming> };
}

/**
 * The Kafka side of a service: schema registration, the outbox relay and the idempotent
 * consumer, started and stopped in the right order, with readiness checks.
 */
export class Messaging<TX extends SqlExecutor> {
  readonly kafka: Kafka;
  readonly codec: EventCodec;
  readonly relay: OutboxRelay | undefined;
  readonly consumer: EventConsumer<TX> | undefined;
  private readonly producer: Producer | undefined;
  private readonly admin: Admin;
  private metricsTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private started = false;
  /** Why the Kafka side could not start, when retrying cannot help (refused credentials). */
  private startFailure: string | undefined;

  constructor(private readonly options: MessagingOptions<TX>) {
    const { config } = options;
    this.kafka = createKafka(options.service, config, options.logger);
    this.codec = new EventCodec(config.SCHEMA_REGISTRY_URL);
    this.admin = this.kafka.admin();
    if (options.outbox) {
      const { OUTBOX_POLL_INTERVAL_MS: pollIntervalMs, OUTBOX_BATCH_SIZE: batchSize } = config;
      if (pollIntervalMs === undefined || batchSize === undefined) {
        throw new Error(`${options.service} publishes events: its config needs OUTBOX_POLL_INTERVAL_MS and OUTBOX_BATCH_SIZE`);
      }
      // Idempotent with one request in flight: retries neither duplicate nor reorder a partition.
      this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      this.relay = new OutboxRelay(options.db, this.producer, this.codec, options.logger.child({ component: 'outbox-relay' }), {
        ...options.outbox,
        pollIntervalMs,
        batchSize,
      });
    }
    if (options.consumer) {
      this.consumer = new EventConsumer<TX>({
        kafka: this.kafka,
        codec: this.codec,
        db: options.db,
        logger: options.logger.child({ component: 'consumer' }),
        onCommitted: () => this.relay?.nudge(),
        producer: options.service,
        ...(options.config.CONSUMER_BATCH_SIZE !== undefined && { maxBatchSize: options.config.CONSUMER_BATCH_SIZE }),
        ...options.consumer,
      });
    }
  }

  async start(): Promise<void> {
    try {
      await this.admin.connect();
    } catch (error) {
      if (!isKafkaAuthenticationError(error)) throw error;
      // Wrong credentials do not heal by restarting: the instance stays up and not ready, and says why
      // (a crash loop would only repeat the same refusal without an explanation on the pod).
      const user = this.options.config.KAFKA_SASL_USERNAME ?? '(none)';
      this.startFailure = `Kafka refused the credentials of principal ${user} (SASL authentication failed); check KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD`;
      this.options.logger.error({ err: error, kafkaPrincipal: user }, this.startFailure);
      return;
    }
    // Services only look their schemas up (provisioning registers them): fails here, with the fix
    // in the message, when provisioning has not run.
    if (this.options.outbox) await this.codec.resolveAll(this.options.outbox.publishes);
    if (this.producer && this.relay) {
      await this.producer.connect();
      this.relay.start();
    }
    await this.consumer?.start();
    // Backlog and lag cost queries, so they are refreshed on a timer rather than per scrape.
    this.metricsTimer = setInterval(() => void this.refreshMetrics().catch(() => undefined), 5_000);
    this.metricsTimer.unref();
    // Published outbox rows and old processed ids are pruned hourly, so neither table grows forever.
    this.pruneTimer = setInterval(() => void this.prune(), 60 * 60 * 1000);
    this.pruneTimer.unref();
    this.started = true;
  }

  private async prune(): Promise<void> {
    try {
      const removed = await pruneMessagingTables(this.options.db, { outbox: Boolean(this.options.outbox), inbox: Boolean(this.options.consumer) });
      this.options.logger.info(removed, 'pruned messaging tables');
    } catch (error) {
      this.options.logger.warn({ err: error }, 'pruning messaging tables failed');
    }
  }

  async refreshMetrics(): Promise<void> {
    if (this.relay) {
      const { count, oldestAgeMs } = await this.relay.backlog();
      outboxBacklog.set(count);
      outboxOldestAge.set(oldestAgeMs / 1000);
    }
    if (this.options.consumer) {
      // Declared with a release's names; this process's namespace applies at the broker.
      const groupId = namespaced(this.options.consumer.groupId);
      const committed = await this.admin.fetchOffsets({ groupId, topics: this.options.consumer.topics.map((topic) => namespaced(topic)) });
      for (const { topic, partitions } of committed) {
        const ends = await this.admin.fetchTopicOffsets(topic);
        for (const { partition, offset } of partitions) {
          const end = Number(ends.find((e) => e.partition === partition)?.high ?? 0);
          const at = Number(offset) < 0 ? 0 : Number(offset);
          consumerLag.set({ consumer_group: groupId, topic, partition: String(partition) }, Math.max(0, end - at));
        }
      }
    }
  }

  /** Consumer first (it may still write to the outbox), then the relay flushes, then Kafka. */
  async stop(): Promise<void> {
    clearInterval(this.metricsTimer);
    clearInterval(this.pruneTimer);
    await this.consumer?.stop();
    await this.relay?.stop();
    await this.producer?.disconnect();
    await this.admin.disconnect();
  }

  /** Database, Kafka, registry and (for consumers) the consumer group, for /health/ready. */
  readinessChecks(): Check[] {
    const checks: Check[] = [
      {
        name: 'messaging',
        check: async () => {
          if (!this.started) throw new Error(this.startFailure ?? 'connecting to Kafka and the registry');
        },
      },
      {
        name: 'database',
        check: async () => {
          await this.options.db.$transaction((tx) => tx.$queryRawUnsafe('SELECT 1'));
        },
      },
      // Kafka and the registry are reported, not required: with them down, writes still commit and
      // their events wait in the outbox, so an instance keeps taking traffic ("degraded", 200)
      // rather than every instance leaving the load balancer at once.
      {
        name: 'kafka',
        critical: false,
        check: async () => {
          await this.admin.describeCluster();
        },
      },
      {
        name: 'schemaRegistry',
        critical: false,
        check: async () => {
          const response = await fetch(`${this.options.config.SCHEMA_REGISTRY_URL}/subjects`, { signal: AbortSignal.timeout(2_000) });
          if (!response.ok) throw new Error(`registry answered ${response.status}`);
        },
      },
    ];
    if (this.consumer) {
      const consumer = this.consumer;
      // The HTTP side does not need partitions: an instance that is still joining (the join
      // waits for a dead member's session to expire) serves requests. A consumer kafkajs gave
      // up on is another matter.
      checks.push({
        name: 'consumer',
        critical: false,
        check: async () => {
          if (consumer.failure) throw new Error(`consumer stopped: ${consumer.failure}`);
        },
      });
    }
    return checks;
  }
}
