import type { Admin, ITopicConfig } from 'kafkajs';
import { dlqTopicOf, kafkaNamespace, namespaced, topics } from './catalog.js';

/** The consumer groups of the system; each has its own dead-letter topic. */
export const consumerGroups = {
  billing: 'billing-service',
  order: 'order-service',
  notification: 'notification-service',
} as const;

export interface TopologyOptions {
  partitions: number;
  replicationFactor: number;
  /** min.insync.replicas; 1 on a single broker, 2 with three replicas. */
  minInsyncReplicas: number;
  /** The namespace whose topics to declare (see `kafkaNamespace`); by default this process's. */
  namespace?: string;
}

const week = String(7 * 24 * 60 * 60 * 1000);
const month = String(30 * 24 * 60 * 60 * 1000);

/** Every topic of the system, declared once; provisioning, docs and tests read this list. */
export function declaredTopics(options: TopologyOptions): ITopicConfig[] {
  const config = (retentionMs: string) => [
    { name: 'cleanup.policy', value: 'delete' },
    { name: 'retention.ms', value: retentionMs },
    { name: 'min.insync.replicas', value: String(options.minInsyncReplicas) },
  ];
  const namespace = options.namespace ?? kafkaNamespace;
  const domain = Object.values(topics).map((topic) => ({
    topic: namespaced(topic, namespace),
    numPartitions: options.partitions,
    replicationFactor: options.replicationFactor,
    configEntries: config(week),
  }));
  // Dead letters are kept longer: someone has to look at them.
  const deadLetters = Object.values(consumerGroups).map((group) => ({
    topic: namespaced(dlqTopicOf(group), namespace),
    numPartitions: 1,
    replicationFactor: options.replicationFactor,
    configEntries: config(month),
  }));
  return [...domain, ...deadLetters];
}

export interface ProvisionReport {
  created: string[];
  partitionsIncreased: string[];
  configured: string[];
}

/**
 * Makes the cluster match the declaration: creates missing topics, raises partition counts
 * (Kafka cannot lower them) and applies configs. Safe to run any number of times.
 */
export async function provisionTopics(admin: Admin, options: TopologyOptions): Promise<ProvisionReport> {
  const wanted = declaredTopics(options);
  const existing = new Set(await admin.listTopics());
  const report: ProvisionReport = { created: [], partitionsIncreased: [], configured: [] };

  const missing = wanted.filter((t) => !existing.has(t.topic));
  if (missing.length > 0) {
    await admin.createTopics({ topics: missing, waitForLeaders: true });
    report.created.push(...missing.map((t) => t.topic));
  }

  const present = wanted.filter((t) => existing.has(t.topic));
  if (present.length > 0) {
    const metadata = await admin.fetchTopicMetadata({ topics: present.map((t) => t.topic) });
    const grow = present.filter((t) => {
      const current = metadata.topics.find((m) => m.name === t.topic)?.partitions.length ?? 0;
      return (t.numPartitions ?? 1) > current;
    });
    if (grow.length > 0) {
      await admin.createPartitions({ topicPartitions: grow.map((t) => ({ topic: t.topic, count: t.numPartitions ?? 1 })) });
      report.partitionsIncreased.push(...grow.map((t) => t.topic));
    }
    await admin.alterConfigs({
      validateOnly: false,
      resources: present.map((t) => ({ type: 2 /* TOPIC */, name: t.topic, configEntries: t.configEntries ?? [] })),
    });
    report.configured.push(...present.map((t) => t.topic));
  }
  return report;
}
