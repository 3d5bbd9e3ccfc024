/**
 * Creates or updates the declared topics, the Kafka ACLs and registers the current event
 * schemas. Run by `npm start`, by the test harness and by the Helm chart's provisioning Job; safe
 * to repeat. It authenticates as the `provision` principal (a super user: the only one besides
 * the broker that may create topics and write ACLs) and talks to the registry's writable instance.
 */
import kafkajs, { Kafka, logLevel, type AclEntry, type Admin } from 'kafkajs';
import { Type } from 'typebox';
import { loadConfig, splitList } from '@eventflow/platform';
import { kafkaAcls, managedAclPrincipals, toKafkaAcl, type AclRule } from '../access.js';
import { eventTypes } from '../catalog.js';
import { EventCodec } from '../codec.js';
import { kafkaConnection } from '../kafka-client.js';
import { provisionTopics } from '../topology.js';

// kafkajs is CommonJS: Node's ESM loader sees its enums only on the default export.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

export const provisionConfigSchema = Type.Object({
  KAFKA_BROKERS: Type.String({ minLength: 1 }),
  KAFKA_SASL_MECHANISM: Type.Optional(Type.Union([Type.Literal('scram-sha-512'), Type.Literal('')])),
  KAFKA_SASL_USERNAME: Type.Optional(Type.String()),
  KAFKA_SASL_PASSWORD: Type.Optional(Type.String()),
  /** Whether to manage ACLs (a broker without an authorizer answers SECURITY_DISABLED). */
  KAFKA_ACLS_ENABLED: Type.Boolean({ default: true }),
  /** Extra name prefixes the ACLs also cover (locally `test.`, the namespace `npm test` runs the services under). */
  KAFKA_ACL_EXTRA_NAMESPACES: Type.String({ default: '' }),
  /** Whether the `test` principal (the local stack's, for what tests create under test.) gets its rules; a release has none. */
  KAFKA_ACL_TEST_PRINCIPAL: Type.Boolean({ default: false }),
  /** The registry's writable instance (services get the read-only one). */
  SCHEMA_REGISTRY_URL: Type.String({ pattern: '^https?://' }),
  TOPIC_PARTITIONS: Type.Integer({ minimum: 1, maximum: 1_000, default: 3 }),
  TOPIC_REPLICATION_FACTOR: Type.Integer({ minimum: 1, maximum: 10, default: 1 }),
  TOPIC_MIN_INSYNC_REPLICAS: Type.Integer({ minimum: 1, maximum: 10, default: 1 }),
});

export interface AclReport {
  created: number;
  deleted: number;
  unchanged: number;
}

/**
 * Makes the broker's ACLs of the managed principals equal to the catalogue's: missing ones are
 * created, ones the catalogue no longer grants are deleted; other principals' ACLs are left alone.
 */
export async function provisionAcls(admin: Admin, wanted: AclRule[]): Promise<AclReport> {
  const keyOf = (acl: AclEntry) =>
    [acl.principal, acl.host, acl.resourceType, acl.resourcePatternType, acl.resourceName, acl.operation, acl.permissionType].join('|');
  const wantedAcls = new Map(wanted.map(toKafkaAcl).map((acl) => [keyOf(acl), acl]));
  const existing: AclEntry[] = [];
  for (const principal of managedAclPrincipals()) {
    const { resources } = await admin.describeAcls({
      principal,
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    });
    for (const { acls, ...resource } of resources) for (const acl of acls) existing.push({ ...resource, ...acl });
  }
  const existingKeys = new Set(existing.map(keyOf));
  const missing = [...wantedAcls.entries()].filter(([key]) => !existingKeys.has(key)).map(([, acl]) => acl);
  const stale = existing.filter((acl) => !wantedAcls.has(keyOf(acl)));
  if (stale.length > 0) await admin.deleteAcls({ filters: stale });
  if (missing.length > 0) await admin.createAcls({ acl: missing });
  return { created: missing.length, deleted: stale.length, unchanged: wantedAcls.size - missing.length };
}

export async function provision(env: Record<string, string | undefined> = process.env) {
  const config = loadConfig('provision', provisionConfigSchema, env);
  const kafka = new Kafka({ clientId: 'eventflow-provision', ...kafkaConnection(config), logLevel: logLevel.WARN });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = await provisionTopics(admin, {
      partitions: config.TOPIC_PARTITIONS,
      replicationFactor: config.TOPIC_REPLICATION_FACTOR,
      minInsyncReplicas: config.TOPIC_MIN_INSYNC_REPLICAS,
    });
    const acls = config.KAFKA_ACLS_ENABLED
      ? await provisionAcls(admin, kafkaAcls({ namespaces: ['', ...splitList(config.KAFKA_ACL_EXTRA_NAMESPACES)], test: config.KAFKA_ACL_TEST_PRINCIPAL }))
      : undefined;
    const subjects = await new EventCodec(config.SCHEMA_REGISTRY_URL).registerAll();
    return { topics, acls, subjects };
  } finally {
    await admin.disconnect();
  }
}

/**
 * `provision.js --check`: exits 0 once the registry at SCHEMA_REGISTRY_URL knows this build's
 * schema of every event, the last thing provisioning does. A service pod waits on it (with the
 * registry's read-only instance and no Kafka credentials), so it starts after the provisioning
 * Job, which alone holds the provision principal's password.
 */
export async function provisioningDone(env: Record<string, string | undefined> = process.env): Promise<Record<string, number>> {
  const url = env['SCHEMA_REGISTRY_URL'];
  if (!url) throw new Error('SCHEMA_REGISTRY_URL is required');
  return new EventCodec(url).resolveAll(eventTypes);
}

// Run as a command only when the entry point is this file (provision.ts, or the built provision.js):
// a service's bundle inlines this module too, and its import.meta.url is then the bundle's own.
const runAsCommand = /(^|\/)provision\.(ts|js|mjs)$/.test(process.argv[1] ?? '') && import.meta.url.endsWith(process.argv[1]?.split('/').pop() ?? '');
if (runAsCommand && process.argv.includes('--check')) {
  provisioningDone()
    .then((ids) => console.log(`provisioned: ${Object.keys(ids).length} schemas registered`))
    .catch((error: unknown) => {
      console.error(`not provisioned yet: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    });
} else if (runAsCommand) {
  provision()
    .then((report) => {
      console.log(JSON.stringify(report, null, 2));
    })
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    });
}
