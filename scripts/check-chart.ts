/**
 * Checks of the Helm chart that need no cluster: lint, render (default and HA values), validate
 * every object against the Kubernetes API schemas of a pinned version offline, the environment
 * contract between the chart and the services' config schemas, the ingress against the Postman
 * collection, and that bad values are refused. Prints one line per check and a summary.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { TObject } from 'typebox';
import { kafkaAcls, kafkaPrincipals, kafkaSuperUsers, provisionConfigSchema, serviceNames, type AclRule } from '@eventflow/events';
import { migrationConfigSchema } from '@eventflow/platform';
import { billingConfigSchema } from '@eventflow/billing-service/config';
import { notificationConfigSchema } from '@eventflow/notification-service/config';
import { orderConfigSchema } from '@eventflow/order-service/config';
import { userConfigSchema } from '@eventflow/user-service/config';
import { repoRoot } from '@eventflow/system-harness';

const kubernetesVersion = '1.32.0';
const chart = join(repoRoot, 'charts', 'eventflow');
const testValues = join(chart, 'ci', 'test-values.yaml');
const bin = execFileSync('bash', [join(repoRoot, 'scripts', 'install-helm.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
const helm = join(bin, 'helm');

interface K8sObject {
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}
type Container = {
  name: string;
  env?: Array<{ name: string }>;
  envFrom?: Array<{ configMapRef?: { name: string } }>;
  command?: string[];
};

const results: Array<{ name: string; ok: boolean; detail?: string }> = [];
function check(name: string, run: () => string | void): void {
  try {
    const detail = run();
    results.push({ name, ok: true, ...(detail ? { detail } : {}) });
  } catch (error) {
    results.push({ name, ok: false, detail: error instanceof Error ? error.message : String(error) });
  }
}
function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function template(...args: string[]): string {
  const result = spawnSync(helm, ['template', 'eventflow', chart, '--namespace', 'otus', ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr.trim());
  return result.stdout;
}
const objects = (manifest: string): K8sObject[] =>
  parseAllDocuments(manifest)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);

/** The variables a container gets: its own env plus the keys of every ConfigMap it takes whole. */
function environmentOf(container: Container | undefined, all: K8sObject[]): Set<string> {
  const names = new Set((container?.env ?? []).map((e) => e.name));
  for (const source of container?.envFrom ?? []) {
    const ref = source.configMapRef?.name;
    if (!ref) continue;
    const configMap = all.find((o) => o.kind === 'ConfigMap' && o.metadata.name === ref) as (K8sObject & { data?: Record<string, string> }) | undefined;
    assert(configMap, `${container?.name}: envFrom names ConfigMap ${ref}, which the chart does not render`);
    for (const key of Object.keys(configMap.data ?? {})) names.add(key);
  }
  return names;
}

const podSpec = (o: K8sObject) => (o.spec as { template: { spec: { containers: Container[]; initContainers?: Container[] } } }).template.spec;

check('helm lint --strict', () => {
  execFileSync(helm, ['lint', '--strict', chart, '-f', testValues], { encoding: 'utf8' });
});

const rendered: Record<string, string> = {};
check('helm template with default values', () => {
  rendered['default'] = template('-f', testValues);
  return `${objects(rendered['default']).length} objects`;
});
check('helm template with values-ha.yaml', () => {
  rendered['ha'] = template('-f', testValues, '-f', join(chart, 'values-ha.yaml'));
  const kafka = objects(rendered['ha']).find((o) => o.kind === 'StatefulSet' && o.metadata.name.endsWith('-kafka'));
  assert(kafka && (kafka.spec as { replicas: number }).replicas === 3, 'HA values must run three brokers');
  const env = podSpec(kafka).containers[0]?.env as Array<{ name: string; value?: string }>;
  const value = (n: string) => env.find((e) => e.name === n)?.value;
  assert(value('KAFKA_MIN_INSYNC_REPLICAS') === '2' && value('KAFKA_DEFAULT_REPLICATION_FACTOR') === '3', 'HA values: replication 3, min.insync.replicas 2');
  assert((value('KAFKA_CONTROLLER_QUORUM_VOTERS') ?? '').split(',').length === 3, 'HA values: three controller voters');
  return 'three brokers, RF 3, min ISR 2';
});

for (const [name, manifest] of Object.entries(rendered)) {
  check(`Kubernetes ${kubernetesVersion} schemas (strict), ${name} values`, () => {
    const result = spawnSync(join(bin, 'kubernetes-validate'), ['--strict', '--quiet', '-k', kubernetesVersion, '-'], { input: manifest, encoding: 'utf8' });
    assert(result.status === 0, `${result.stdout}${result.stderr}`.trim());
    return `${objects(manifest).length} objects valid`;
  });
}

const schemas: Record<string, TObject> = {
  'user-service': userConfigSchema,
  'billing-service': billingConfigSchema,
  'order-service': orderConfigSchema,
  'notification-service': notificationConfigSchema,
};
check('environment contract: each service gets every variable it requires and none it does not read', () => {
  const all = objects(rendered['default'] ?? '');
  const deployments = all.filter((o) => o.kind === 'Deployment');
  const problems: string[] = [];
  for (const [service, schema] of Object.entries(schemas)) {
    const deployment = deployments.find((d) => d.metadata.name.endsWith(`-${service}`));
    if (!deployment) {
      problems.push(`${service}: no Deployment`);
      continue;
    }
    const spec = podSpec(deployment);
    const set = environmentOf(spec.containers.find((c) => c.name === service), all);
    const declared = new Set(Object.keys(schema.properties));
    const required = Object.entries(schema.properties)
      .filter(([, p]) => (p as { default?: unknown }).default === undefined)
      .map(([k]) => k);
    for (const name of required) if (!set.has(name)) problems.push(`${service}: ${name} is required but not set`);
    for (const name of set) if (!declared.has(name) && !name.startsWith('OTEL_')) problems.push(`${service}: ${name} is set but not read`);
    // The init containers wrap the command in a retry loop while the infrastructure starts.
    const runs = (c: Container | undefined, command: string) => (c?.command ?? []).join(' ').includes(`until ${command};`);
    const migrate = spec.initContainers?.find((c) => c.name === 'migrate');
    if (!runs(migrate, `node apps/${service}/dist/cli/migrate.js`)) problems.push(`${service}: migration init container runs the wrong command`);
    // The migration role's URL goes to the migrate init container only; the service gets the runtime role's.
    const migrationEnv = [...environmentOf(migrate, all)].sort().join(',');
    if (migrationEnv !== Object.keys(migrationConfigSchema).sort().join(','))
      problems.push(`${service}: the migrate init container gets ${migrationEnv}, not exactly ${Object.keys(migrationConfigSchema).join(',')}`);
    const waiting = spec.initContainers?.find((c) => c.name === 'wait-for-provisioning');
    if (!runs(waiting, 'node libs/events/dist/provision.js --check')) problems.push(`${service}: no init container waiting for the provisioning`);
  }
  const job = all.find((o) => o.kind === 'Job' && o.metadata.name.includes('-provision-'));
  if (!job) problems.push('no provisioning Job');
  else {
    const provision = podSpec(job).containers.find((c) => c.name === 'provision');
    const provisioning = environmentOf(provision, all);
    for (const name of provisioning) if (!(name in provisionConfigSchema.properties)) problems.push(`provisioning gets ${name}, which it does not read`);
    for (const name of ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD']) if (!provisioning.has(name)) problems.push(`provisioning lacks ${name}`);
    if (!(provision?.command ?? []).join(' ').includes('until node libs/events/dist/provision.js;')) problems.push('the provisioning Job runs the wrong command');
  }
  assert(problems.length === 0, problems.join('; '));
  return `${Object.keys(schemas).length} services and the provisioning Job`;
});

type SecretRef = { valueFrom?: { secretKeyRef?: { name: string; key: string } } };
const secretKeysOf = (c: Container | undefined): Record<string, string> =>
  Object.fromEntries((c?.env ?? []).flatMap((e) => ((e as SecretRef).valueFrom?.secretKeyRef ? [[e.name, (e as SecretRef).valueFrom!.secretKeyRef!.key]] : [])));

type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };
check('Kafka: SASL/SCRAM users per principal, authorizer with no ACL = deny, ACLs equal to the event catalogue; services read a read-only registry', () => {
  const all = objects(rendered['default'] ?? '');
  const problems: string[] = [];
  const kafka = all.find((o) => o.kind === 'StatefulSet' && o.metadata.name.endsWith('-kafka'));
  const env = (podSpec(kafka!).containers[0]?.env ?? []) as EnvVar[];
  const value = (n: string) => env.find((e) => e.name === n)?.value;
  const expect = (name: string, wanted: string) => value(name) !== wanted && problems.push(`broker ${name} is ${value(name)}, not ${wanted}`);
  expect('KAFKA_LISTENER_SECURITY_PROTOCOL_MAP', 'CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT');
  expect('KAFKA_LISTENER_NAME_CLIENT_SASL_ENABLED_MECHANISMS', 'SCRAM-SHA-512,PLAIN');
  expect('KAFKA_AUTHORIZER_CLASS_NAME', 'org.apache.kafka.metadata.authorizer.StandardAuthorizer');
  expect('KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND', 'false');
  expect('KAFKA_SUPER_USERS', kafkaSuperUsers.map((u) => `User:${u}`).join(';'));
  if ((value('KAFKA_LISTENERS') ?? '').includes('PLAINTEXT://')) problems.push('a PLAINTEXT listener is left');
  // The users: one password per principal of the catalogue (the local stack's test user aside).
  const secret = all.find((o) => o.kind === 'Secret' && o.metadata.name.endsWith('-kafka')) as (K8sObject & { stringData?: Record<string, string> }) | undefined;
  const principals = Object.keys(kafkaPrincipals).filter((p) => p !== 'test');
  const keys = Object.keys(secret?.stringData ?? {}).sort();
  if (keys.join(',') !== principals.map((p) => `${p}-password`).sort().join(',')) problems.push(`the Kafka Secret holds ${keys.join(',')}, not a password per principal (${principals.join(',')})`);
  const job = all.find((o) => o.kind === 'Job' && o.metadata.name.includes('-provision-'));
  const users = (podSpec(job!).initContainers?.find((c) => c.name === 'kafka-users')?.command ?? []).join(' ');
  for (const principal of principals.filter((p) => p !== 'admin')) if (!users.includes(` ${principal}`)) problems.push(`the provisioning Job does not create the Kafka user ${principal}`);
  // The ACLs the chart renders are exactly the catalogue's, and name only principals that exist.
  const aclMap = all.find((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-kafka-acls')) as (K8sObject & { data?: Record<string, string> }) | undefined;
  const chartRules = JSON.parse(aclMap?.data?.['acls.json'] ?? '[]') as AclRule[];
  const key = (r: AclRule) => `${r.principal} ${r.operation} ${r.resourceType} ${r.patternType} ${r.resourceName}`;
  const catalogue = kafkaAcls({ namespaces: [''], test: false }).map(key).sort();
  const chartAcls = chartRules.map(key).sort();
  for (const missing of catalogue.filter((k) => !chartAcls.includes(k))) problems.push(`ACL missing from the chart: ${missing}`);
  for (const extra of chartAcls.filter((k) => !catalogue.includes(k))) problems.push(`ACL in the chart but not in the catalogue: ${extra}`);
  for (const rule of chartRules) if (!principals.includes(rule.principal.replace(/^User:/, ''))) problems.push(`ACL for an unknown principal: ${key(rule)}`);
  // Each service authenticates as itself, with its own password, and reads the read-only registry.
  const deployments = all.filter((o) => o.kind === 'Deployment');
  for (const service of serviceNames) {
    const deployment = deployments.find((d) => d.metadata.name.endsWith(`-${service}`));
    const container = deployment && podSpec(deployment).containers.find((c) => c.name === service);
    const config = all.find((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith(`-${service}`)) as (K8sObject & { data?: Record<string, string> }) | undefined;
    if (config?.data?.['KAFKA_SASL_USERNAME'] !== service) problems.push(`${service}: KAFKA_SASL_USERNAME is ${config?.data?.['KAFKA_SASL_USERNAME']}`);
    if (!config?.data?.['SCHEMA_REGISTRY_URL']?.includes('-registry-reader:')) problems.push(`${service}: SCHEMA_REGISTRY_URL is not the read-only registry`);
    if (secretKeysOf(container)['KAFKA_SASL_PASSWORD'] !== `${service}-password`) problems.push(`${service}: KAFKA_SASL_PASSWORD is not its own`);
  }
  const reader = deployments.find((d) => d.metadata.name.endsWith('-registry-reader'));
  const readerEnv = (reader ? (podSpec(reader).containers[0]?.env ?? []) : []) as EnvVar[];
  if (readerEnv.find((e) => e.name === 'APICURIO_STORAGE_READ_ONLY_ENABLED')?.value !== 'true') problems.push('the registry-reader is not read-only');
  const provisionEnv = (podSpec(job!).containers[0]?.env ?? []) as EnvVar[];
  if (!provisionEnv.find((e) => e.name === 'SCHEMA_REGISTRY_URL')?.value?.match(/-registry:8080\//)) problems.push('provisioning does not use the writable registry');
  if (provisionEnv.find((e) => e.name === 'KAFKA_SASL_USERNAME')?.value !== 'provision') problems.push('provisioning does not authenticate as provision');
  assert(problems.length === 0, problems.join('; '));
  return `${principals.length} principals, ${chartRules.length} ACLs = the catalogue's`;
});

check('databases: per service a migration role (owner, DDL) and a runtime role (rows only, its own database)', () => {
  const all = objects(rendered['default'] ?? '');
  const roles = all.find((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-db-roles')) as (K8sObject & { data: Record<string, string> }) | undefined;
  assert(roles?.data['roles.sql'], 'no db-roles ConfigMap with roles.sql');
  const sql = roles.data['roles.sql'];
  const job = all.find((o) => o.kind === 'Job' && /-db-roles-\d+$/.test(o.metadata.name));
  assert(job, 'no db-roles Job');
  const secret = all.find((o) => o.kind === 'Secret' && o.metadata.name.endsWith('-db')) as (K8sObject & { stringData: Record<string, string> }) | undefined;
  assert(secret, 'no -db Secret');
  const problems: string[] = [];
  for (const [component, database] of [['user', 'users'], ['billing', 'billing'], ['order', 'orders'], ['notification', 'notifications']] as const) {
    const user = (key: string) => new URL(secret.stringData[key] ?? 'postgres://none@x/none');
    const runtime = user(`${component}-url`);
    const migration = user(`${component}-migration-url`);
    if (runtime.username === migration.username) problems.push(`${component}: runtime and migration role are both ${runtime.username}`);
    if (runtime.pathname !== `/${database}` || migration.pathname !== `/${database}`) problems.push(`${component}: the URLs do not name database ${database}`);
    const expect = (line: string) => {
      if (!sql.split('\n').some((l) => l.trim() === line)) problems.push(`${component}: roles.sql lacks "${line}"`);
    };
    expect(`ALTER DATABASE ${database} OWNER TO ${migration.username};`);
    expect(`REVOKE ALL ON DATABASE ${database} FROM PUBLIC;`);
    expect(`GRANT CONNECT ON DATABASE ${database} TO ${runtime.username};`);
    expect(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${runtime.username};`);
    expect(`ALTER DEFAULT PRIVILEGES FOR ROLE ${migration.username} IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${runtime.username};`);
    const granted = sql.split('\n').filter((l) => new RegExp(`^\\s*GRANT .* TO ${runtime.username};`).test(l));
    for (const line of granted) if (/\b(ALL|CREATE|TRUNCATE|REFERENCES|TRIGGER)\b(?! TABLES| SEQUENCES)/.test(line.replace(/ON ALL (TABLES|SEQUENCES)/, ''))) problems.push(`${component}: the runtime role gets more than DML: ${line.trim()}`);
    const deployment = all.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith(`-${component}-service`));
    const spec = deployment && podSpec(deployment);
    const serviceKeys = secretKeysOf(spec?.containers.find((c) => c.name === `${component}-service`));
    if (serviceKeys['DATABASE_URL'] !== `${component}-url`) problems.push(`${component}: the service's DATABASE_URL is not the runtime role`);
    if (Object.values(serviceKeys).some((k) => k.includes('migration'))) problems.push(`${component}: the service container gets the migration role`);
    if (secretKeysOf(spec?.initContainers?.find((c) => c.name === 'migrate'))['MIGRATION_DATABASE_URL'] !== `${component}-migration-url`)
      problems.push(`${component}: the migrate init container does not use the migration role`);
  }
  assert(problems.length === 0, problems.join('; '));
  return '4 services, roles.sql and the db-roles Job';
});

type Peer = { podSelector?: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; values: string[] }> }; namespaceSelector?: unknown; ipBlock?: unknown };
type Rule = { from?: Peer[]; to?: Peer[]; ports?: Array<{ port: string | number }> };
type Policy = K8sObject & { spec: { podSelector: Peer['podSelector']; policyTypes: string[]; ingress?: Rule[]; egress?: Rule[] } };
const namesOf = (selector: Peer['podSelector']): string[] | 'all' =>
  selector?.matchExpressions?.find((e) => e.key === 'app.kubernetes.io/name')?.values ?? (selector?.matchLabels?.['app.kubernetes.io/name'] ? [selector.matchLabels['app.kubernetes.io/name']] : 'all');
check('NetworkPolicies: default deny, ingress controller -> services -> Kafka, registry, PostgreSQL only; off with networkPolicy.enabled=false', () => {
  const all = objects(rendered['default'] ?? '');
  const policies = all.filter((o): o is Policy => o.kind === 'NetworkPolicy');
  const deny = policies.find((p) => namesOf(p.spec.podSelector) === 'all' && !p.spec.ingress && !p.spec.egress);
  assert(deny && deny.spec.policyTypes.includes('Ingress') && deny.spec.policyTypes.includes('Egress'), 'no default-deny policy for every pod of the release');
  // Every workload's pods are selected by some policy beyond the default deny (or they could do nothing at all).
  const podLabels = all
    .filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind) || (o.kind === 'Pod' && o.metadata.annotations?.['helm.sh/hook'] === 'test'))
    .map((o) => (o.kind === 'Pod' ? (o.metadata as { labels?: Record<string, string> }).labels : (o.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels)?.['app.kubernetes.io/name'] ?? '?');
  for (const name of podLabels) {
    const selecting = policies.filter((p) => p !== deny && (namesOf(p.spec.podSelector) === 'all' || (namesOf(p.spec.podSelector) as string[]).includes(name)));
    assert(selecting.some((p) => namesOf(p.spec.podSelector) !== 'all'), `no policy for the pods of ${name}`);
  }
  const services = ['user-service', 'billing-service', 'order-service', 'notification-service'];
  const forServices = policies.filter((p) => namesOf(p.spec.podSelector) !== 'all' && (namesOf(p.spec.podSelector) as string[]).some((n) => services.includes(n)));
  const egressTo = new Set(forServices.flatMap((p) => (p.spec.egress ?? []).flatMap((r) => (r.to ?? []).flatMap((peer) => (peer.podSelector ? namesOf(peer.podSelector) : ['<outside>'])))));
  // The read-only registry: only the provisioning Job may reach the writable one.
  const allowed = new Set(['kafka', 'registry-reader', 'postgresql']);
  for (const target of egressTo) assert(target !== 'all' && allowed.has(target as string), `the services may open connections to ${target}`);
  assert([...allowed].every((t) => egressTo.has(t)), `the services cannot reach ${[...allowed].filter((t) => !egressTo.has(t)).join(', ')}`);
  const writable = policies.find((p) => JSON.stringify(namesOf(p.spec.podSelector)) === '["registry"]');
  const writers = (writable?.spec.ingress ?? []).flatMap((r) => (r.from ?? []).flatMap((peer) => namesOf(peer.podSelector)));
  assert(writers.length > 0 && writers.every((w) => ['provision', 'events-console'].includes(w as string)), `the writable registry accepts ${writers.join(', ')}`);
  for (const p of forServices)
    for (const rule of p.spec.ingress ?? [])
      for (const peer of rule.from ?? []) assert(peer.namespaceSelector !== undefined && peer.podSelector !== undefined, `${p.metadata.name}: services accept connections from ${JSON.stringify(peer)}`);
  const postgres = policies.find((p) => JSON.stringify(namesOf(p.spec.podSelector)) === '["postgresql"]');
  const clients = (postgres?.spec.ingress ?? []).flatMap((r) => (r.from ?? []).flatMap((peer) => namesOf(peer.podSelector)));
  assert(clients.length > 0 && clients.every((c) => [...services, 'registry', 'registry-reader', 'db-roles'].includes(c as string)), `PostgreSQL accepts ${clients.join(', ')}`);
  const off = objects(template('-f', testValues, '--set', 'networkPolicy.enabled=false')).filter((o) => o.kind === 'NetworkPolicy');
  assert(off.length === 0, `networkPolicy.enabled=false still renders ${off.length} NetworkPolicies`);
  return `${policies.length} policies`;
});

check('pods: PDB and topology spread with replicas > 1, a preStop delay, a non-root helm test pod, images pinnable by digest', () => {
  type PodSpec = {
    securityContext?: { runAsNonRoot?: boolean };
    hostAliases?: Array<{ ip: string; hostnames: string[] }>;
    topologySpreadConstraints?: Array<{ topologyKey: string }>;
    containers: Array<Container & { lifecycle?: { preStop?: { sleep?: { seconds: number } } }; securityContext?: Record<string, unknown>; image: string }>;
  };
  const services = ['user-service', 'billing-service', 'order-service', 'notification-service'];
  const deploymentsOf = (all: K8sObject[]) => all.filter((o) => o.kind === 'Deployment' && services.some((s) => o.metadata.name.endsWith(`-${s}`)));
  const problems: string[] = [];
  for (const [values, replicated] of [['default', false], ['ha', true]] as const) {
    const all = objects(rendered[values] ?? '');
    const budgets = all.filter((o) => o.kind === 'PodDisruptionBudget' && services.some((s) => o.metadata.name.endsWith(`-${s}`)));
    if (budgets.length !== (replicated ? 4 : 0)) problems.push(`${values} values: ${budgets.length} service PodDisruptionBudgets`);
    for (const deployment of deploymentsOf(all)) {
      const spec = (deployment.spec as { template: { spec: PodSpec } }).template.spec;
      const keys = (spec.topologySpreadConstraints ?? []).map((c) => c.topologyKey);
      if (replicated !== keys.includes('kubernetes.io/hostname')) problems.push(`${values} values: ${deployment.metadata.name} spread over nodes: ${keys.join(',') || 'none'}`);
      const main = spec.containers[0];
      if (!(Number(main?.lifecycle?.preStop?.sleep?.seconds) > 0)) problems.push(`${deployment.metadata.name}: no preStop delay`);
      const security = main?.securityContext ?? {};
      if (!(security['runAsNonRoot'] === true && security['readOnlyRootFilesystem'] === true && security['allowPrivilegeEscalation'] === false))
        problems.push(`${deployment.metadata.name}: the service container lost its hardened securityContext`);
    }
  }
  const withAddress = objects(template('-f', testValues, '--set', 'tests.ingressAddress=10.0.0.7', '--set', `image.digest=sha256:${'a'.repeat(64)}`));
  const newman = withAddress.find((o) => o.kind === 'Pod' && o.metadata.annotations?.['helm.sh/hook'] === 'test') as (K8sObject & { spec: PodSpec }) | undefined;
  if (!newman) problems.push('no helm test pod');
  else {
    if (newman.spec.securityContext?.runAsNonRoot !== true) problems.push('the helm test pod may run as root');
    if (JSON.stringify(newman.spec.hostAliases) !== JSON.stringify([{ ip: '10.0.0.7', hostnames: ['arch.homework'] }])) problems.push(`helm test pod hostAliases: ${JSON.stringify(newman.spec.hostAliases)}`);
    if ((newman.spec.containers[0]?.command ?? []).join(' ').includes('/etc/hosts')) problems.push('the helm test pod still edits /etc/hosts');
  }
  for (const deployment of deploymentsOf(withAddress)) {
    const image = (deployment.spec as { template: { spec: PodSpec } }).template.spec.containers[0]?.image ?? '';
    if (!image.endsWith(`@sha256:${'a'.repeat(64)}`)) problems.push(`${deployment.metadata.name}: image.digest is not used (${image})`);
  }
  const tls = objects(template('-f', testValues, '--set', 'ingress.tls.enabled=true', '--set', 'ingress.tls.clusterIssuer=letsencrypt')).find((o) => o.kind === 'Ingress');
  const tlsSpec = (tls?.spec as { tls?: Array<{ hosts: string[]; secretName: string }> } | undefined)?.tls;
  if (tlsSpec?.[0]?.hosts[0] !== 'arch.homework' || !tlsSpec[0].secretName) problems.push(`ingress TLS: ${JSON.stringify(tlsSpec)}`);
  if (tls?.metadata.annotations?.['cert-manager.io/cluster-issuer'] !== 'letsencrypt') problems.push('ingress TLS: no cert-manager annotation');
  assert(problems.length === 0, problems.join('; '));
  return 'HA: 4 PDBs, spread; preStop; test pod non-root with hostAliases; digest; TLS';
});

const collection = JSON.parse(readFileSync(join(repoRoot, 'postman', 'eventflow.postman_collection.json'), 'utf8')) as {
  variable: Array<{ key: string; value: string }>;
};
check('ingress: host and paths match the Postman collection and the services', () => {
  const ingress = objects(rendered['default'] ?? '').find((o) => o.kind === 'Ingress');
  assert(ingress, 'no Ingress rendered');
  const spec = ingress.spec as {
    ingressClassName: string;
    rules: Array<{ host: string; http: { paths: Array<{ path: string; pathType: string; backend: { service: { name: string } } }> } }>;
  };
  const baseUrl = collection.variable.find((v) => v.key === 'baseUrl')?.value;
  assert(baseUrl === 'arch.homework', `the collection's baseUrl starts as ${baseUrl}, not arch.homework`);
  assert(spec.rules.length === 1 && spec.rules[0]?.host === baseUrl, `ingress host is ${spec.rules[0]?.host}, the collection calls ${baseUrl}`);
  assert(spec.ingressClassName === 'nginx', 'ingressClassName must default to nginx');
  const routes = Object.fromEntries(spec.rules[0].http.paths.map((p) => [p.path, p.backend.service.name.replace(/^eventflow-/, '')]));
  const expected = { '/users': 'user-service', '/auth': 'user-service', '/billing': 'billing-service', '/orders': 'order-service', '/notifications': 'notification-service' };
  assert(JSON.stringify(Object.entries(routes).sort()) === JSON.stringify(Object.entries(expected).sort()), `routes ${JSON.stringify(routes)}`);
  return Object.keys(expected).join(' ');
});

check("the chart's copy of the Postman collection is the one in postman/", () => {
  const original = readFileSync(join(repoRoot, 'postman', 'eventflow.postman_collection.json'), 'utf8');
  const copy = readFileSync(join(chart, 'files', 'eventflow.postman_collection.json'), 'utf8');
  assert(original === copy, 'charts/eventflow/files/eventflow.postman_collection.json differs: cp postman/eventflow.postman_collection.json charts/eventflow/files/');
});

check('no key flags: lint passes, the release generates an Ed25519 pair, only user-service gets its private half', () => {
  execFileSync(helm, ['lint', '--strict', chart], { encoding: 'utf8' });
  const all = objects(template());
  const secret = all.find((o) => o.kind === 'Secret' && o.metadata.name.endsWith('-auth')) as (K8sObject & { stringData: Record<string, string> }) | undefined;
  assert(secret, 'no -auth Secret rendered');
  assert(secret.metadata.annotations?.['helm.sh/resource-policy'] === 'keep', 'the generated keys must survive an uninstall (resource-policy keep)');
  const privateKey = createPrivateKey(secret.stringData['jwt-private-key'] ?? '');
  assert(privateKey.asymmetricKeyType === 'ed25519', `generated a ${privateKey.asymmetricKeyType} key`);
  const certificate = new X509Certificate(secret.stringData['jwt-public-keys'] ?? '');
  assert(certificate.publicKey.equals(createPublicKey(privateKey)), 'the generated public key set does not hold the private key\'s public half');
  const refs = (c: Container) => (c.env ?? []).map((e) => (e as { valueFrom?: { secretKeyRef?: { key: string } } }).valueFrom?.secretKeyRef?.key);
  for (const deployment of all.filter((o) => o.kind === 'Deployment' && /-(user|billing|order|notification)-service$/.test(o.metadata.name))) {
    const keys = podSpec(deployment).containers.flatMap(refs);
    assert(keys.includes('jwt-public-keys'), `${deployment.metadata.name} lacks the public key set`);
    const isUser = deployment.metadata.name.endsWith('-user-service');
    assert(keys.includes('jwt-private-key') === isUser, `${deployment.metadata.name} ${isUser ? 'lacks' : 'must not get'} the private key`);
  }
  return 'Ed25519 pair, certificate in the key set';
});

const refused = (args: string[], expected: RegExp) => {
  const result = spawnSync(helm, ['template', 'eventflow', chart, ...args], { encoding: 'utf8' });
  assert(result.status !== 0, `helm template ${args.join(' ')} should have failed`);
  assert(expected.test(result.stderr), `unexpected message: ${result.stderr.trim()}`);
};
check('bad values are refused with a clear message', () => {
  refused(['-f', testValues, '--set', 'services.user.replicas=-1'], /replicas.*minimum|must be >= 1/i);
  refused(['-f', testValues, '--set', 'kafka.image=apache/kafka:3.9.0'], /kafka.*image/i);
  refused(['--set-string', 'auth.publicKey=-----BEGIN PUBLIC KEY-----x'], /auth\.publicKey was given without auth\.privateKey/);
  refused(['-f', testValues, '--set', 'kafka.replicationFactor=3'], /replicationFactor \(3\) cannot be larger than kafka.replicas \(1\)/);
  refused(['-f', testValues, '--set', 'postgresql.enabled=false'], /postgresql\/host|postgresql\.host/);
  refused(['-f', testValues, '--set', 'image.digest=latest'], /image\/digest|image\.digest/);
  refused(['-f', testValues, '--set', 'networkPolicy.postgresqlCidr=db.example'], /postgresqlCidr/);
  refused(['-f', testValues, '--set', 'postgresql.databases.user.migrationUsername=Robert); DROP'], /migrationUsername/);
});

for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.name}${r.detail ? `: ${r.detail}` : ''}`);
const failed = results.filter((r) => !r.ok).length;
console.log(`check-chart: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
