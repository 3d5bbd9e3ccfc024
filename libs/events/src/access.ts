import kafkajs, { type AclEntry as KafkaAclEntry } from 'kafkajs';
import { dlqTopicOf, eventTopics, topics, type EventType } from './catalog.js';
import { consumerGroups } from './topology.js';

// kafkajs is CommonJS: Node's ESM loader sees its enums only on the default export.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

/**
 * Who publishes and consumes what: the one declaration the services' messaging set-up and the
 * broker's ACLs are both built from, so a service can never be allowed more (or less) than it does.
 */
export interface EventStreams {
  /** Events it publishes through its outbox (it may write their topics). */
  publishes: readonly EventType[];
  /** Its consumer group and the topics it reads (it may write the group's dead-letter topic). */
  consumes?: { group: string; topics: readonly string[] };
  /** Other consumer groups whose committed offsets it reads (admission control); describe only. */
  observes?: readonly string[];
}

export const serviceStreams = {
  'user-service': { publishes: ['UserCreated'] },
  'billing-service': {
    publishes: ['PaymentSucceeded', 'PaymentFailed'],
    consumes: { group: consumerGroups.billing, topics: [topics.userEvents, topics.orderEvents] },
  },
  'order-service': {
    publishes: ['OrderPlaced', 'OrderPaid', 'OrderPaymentFailed'],
    consumes: { group: consumerGroups.order, topics: [topics.paymentEvents] },
    // An order passes through these groups before it is settled: their lag is the order flow's backlog.
    observes: [consumerGroups.billing, consumerGroups.notification],
  },
  'notification-service': {
    publishes: [],
    consumes: { group: consumerGroups.notification, topics: [topics.userEvents, topics.orderEvents] },
  },
} as const satisfies Record<string, EventStreams>;

export type ServiceName = keyof typeof serviceStreams;
export const serviceNames = Object.keys(serviceStreams) as ServiceName[];

/**
 * The Kafka principals (SASL/SCRAM users). Each service has its own; `provision` is the broker's
 * super user besides the broker itself (`admin`): it alone creates and alters topics and writes
 * the ACLs (the ALTER-on-cluster right that needs is a super user's in all but name). `ops` is the
 * operators' tools (events inspect/tail/replay, chaos and bench checks); `test` owns whatever
 * tests create under the `test.` prefix.
 */
export const kafkaPrincipals = {
  admin: 'admin',
  provision: 'provision',
  ops: 'ops',
  test: 'test',
  ...(Object.fromEntries(serviceNames.map((name) => [name, name])) as Record<ServiceName, ServiceName>),
} as const;
export type KafkaPrincipal = keyof typeof kafkaPrincipals;

/** Super users bypass ACLs: the broker's own identity and provisioning. */
export const kafkaSuperUsers: KafkaPrincipal[] = ['admin', 'provision'];

/** Names tests give the topics, groups, transactional ids and subjects they create themselves. */
export const testResourcePrefix = 'test.';

export type AclResource = 'TOPIC' | 'GROUP' | 'TRANSACTIONAL_ID' | 'CLUSTER';
export type AclOperation = 'ALL' | 'READ' | 'WRITE' | 'CREATE' | 'DELETE' | 'ALTER' | 'DESCRIBE' | 'DESCRIBE_CONFIGS' | 'ALTER_CONFIGS';

/** One ALLOW rule, in the broker's terms (kafka-acls prints the same fields). */
export interface AclRule {
  principal: string;
  resourceType: AclResource;
  patternType: 'LITERAL' | 'PREFIXED';
  resourceName: string;
  operation: AclOperation;
}

export interface AclOptions {
  /**
   * Name prefixes the system runs under: [''] in a release; locally also the one `npm test`
   * runs the services under, so both sets of names are allowed.
   */
  namespaces?: readonly string[];
  /** The `test` principal's rules (the local stack's; a release has no such user). Default true. */
  test?: boolean;
}

const unique = <T>(items: Iterable<T>): T[] => [...new Set(items)];

/** The topics a service may write: those of the events it publishes, and its own dead-letter topic. */
export function writableTopicsOf(service: ServiceName, namespace = ''): string[] {
  const streams: EventStreams = serviceStreams[service];
  const published = streams.publishes.map((type) => eventTopics[type]);
  const dlq = streams.consumes ? [dlqTopicOf(streams.consumes.group)] : [];
  return unique([...published, ...dlq]).map((topic) => namespace + topic);
}

/** The topics a service may read. */
export function readableTopicsOf(service: ServiceName, namespace = ''): string[] {
  const streams: EventStreams = serviceStreams[service];
  return unique(streams.consumes?.topics ?? []).map((topic) => namespace + topic);
}

/**
 * Every ACL of the system, derived from the catalogue: a service may write only the topics of the
 * events it publishes and its own dead-letter topic, read only the topics it consumes, and use
 * only its own consumer group; nobody but the super users may create, alter or delete topics.
 */
export function kafkaAcls(options: AclOptions = {}): AclRule[] {
  const namespaces = options.namespaces ?? [''];
  const rules: AclRule[] = [];
  const allow = (principal: string, resourceType: AclResource, resourceName: string, operation: AclOperation, patternType: AclRule['patternType'] = 'LITERAL') =>
    rules.push({ principal: `User:${principal}`, resourceType, patternType, resourceName, operation });

  for (const namespace of namespaces) {
    for (const service of serviceNames) {
      const streams: EventStreams = serviceStreams[service];
      for (const topic of writableTopicsOf(service, namespace)) allow(service, 'TOPIC', topic, 'WRITE');
      for (const topic of readableTopicsOf(service, namespace)) allow(service, 'TOPIC', topic, 'READ');
      if (streams.consumes) allow(service, 'GROUP', namespace + streams.consumes.group, 'READ');
      for (const group of streams.observes ?? []) allow(service, 'GROUP', namespace + group, 'DESCRIBE');
    }
    // Operators read and replay events and watch the services' lag; they create nothing.
    for (const topic of allTopics(namespace)) {
      allow('ops', 'TOPIC', topic, 'READ');
      allow('ops', 'TOPIC', topic, 'WRITE');
    }
    for (const group of Object.values(consumerGroups)) allow('ops', 'GROUP', namespace + group, 'DESCRIBE');
  }
  allow('ops', 'GROUP', 'eventflow-', 'READ', 'PREFIXED');
  if (options.test ?? true) {
    allow('ops', 'GROUP', testResourcePrefix, 'READ', 'PREFIXED');
    // Tests own everything under their prefix, and nothing else.
    for (const resource of ['TOPIC', 'GROUP', 'TRANSACTIONAL_ID'] as const) allow('test', resource, testResourcePrefix, 'ALL', 'PREFIXED');
  }
  return rules;
}

/** Every declared topic (domain topics and dead-letter topics) under a namespace. */
export function allTopics(namespace = ''): string[] {
  return [...Object.values(topics), ...Object.values(consumerGroups).map(dlqTopicOf)].map((topic) => namespace + topic);
}

/** An ACL rule as a kafkajs createAcls/deleteAcls entry. */
export function toKafkaAcl(rule: AclRule): KafkaAclEntry {
  return {
    principal: rule.principal,
    host: '*',
    resourceType: AclResourceTypes[rule.resourceType],
    resourceName: rule.resourceName,
    resourcePatternType: ResourcePatternTypes[rule.patternType],
    operation: AclOperationTypes[rule.operation],
    permissionType: AclPermissionTypes.ALLOW,
  };
}

/** The principals whose ACLs the system manages (provisioning replaces theirs, leaves others alone). */
export const managedAclPrincipals = (): string[] =>
  (Object.keys(kafkaPrincipals) as KafkaPrincipal[]).filter((p) => !kafkaSuperUsers.includes(p)).map((p) => `User:${p}`);
