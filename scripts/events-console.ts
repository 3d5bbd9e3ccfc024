/**
 * `npm run events -- console <topic> [ConsoleConsumer options…]`: Kafka's own console consumer,
 * printing each event decoded to JSON through the schema registry, with partition, offset,
 * headers and key. Prints the exact Java command, then runs it.
 *
 * The classpath is charts/eventflow/files/events-console/pom.xml (kafka-tools and Apicurio
 * Registry's Avro deserializer from Maven Central), resolved once with Maven into the download
 * cache like scripts/stack resolves Kafka; the chart's events-console pod uses the same pom.
 * Reads KAFKA_BROKERS and SCHEMA_REGISTRY_URL (defaults: the local stack), and authenticates like
 * the other tools (KAFKA_SASL_*, else the local stack's ops principal): the credentials go into a
 * properties file only this user can read (--command-config), never onto the printed command line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kafkaConnection, namespaced } from '@eventflow/events';
import { toolKafkaSettings } from '@eventflow/system-harness';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const consolePom = join(repoRoot, 'charts', 'eventflow', 'files', 'events-console', 'pom.xml');
const dependencyPlugin = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

/** The folder of jars for this pom; resolved once per pom content, whole or not at all. */
export function consoleLibs(): string {
  const cache = process.env['EVENTFLOW_CACHE'] ?? join(homedir(), '.cache', 'eventflow');
  const digest = createHash('sha1').update(readFileSync(consolePom)).digest('hex').slice(0, 8);
  const home = join(cache, `events-console-${digest}`);
  if (existsSync(join(home, '.installed'))) return join(home, 'libs');
  const tmp = `${home}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'build'), { recursive: true });
  writeFileSync(join(tmp, 'build', 'pom.xml'), readFileSync(consolePom)); // Maven's output stays out of the repo
  console.error(`events console: resolving Kafka's console consumer and Apicurio's Avro deserializer from Maven Central into ${home}`);
  const mvn = spawnSync('mvn', ['-B', '-q', '-C', `${dependencyPlugin}:copy-dependencies`, '-DincludeScope=runtime', `-DoutputDirectory=${join(tmp, 'libs')}`], {
    cwd: join(tmp, 'build'),
    encoding: 'utf8',
  });
  if (mvn.error || mvn.status !== 0) {
    throw new Error(`could not resolve ${consolePom} with Maven (${mvn.error?.message ?? `exit ${mvn.status}`}):\n${`${mvn.stdout ?? ''}${mvn.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n')}`);
  }
  writeFileSync(join(tmp, '.installed'), '');
  rmSync(home, { recursive: true, force: true });
  renameSync(tmp, home);
  return join(home, 'libs');
}

/** Apicurio's own API (v2, which Registry 3 still serves) beside the Confluent-compatible one the services use. */
export const apicurioApiOf = (ccompatUrl: string): string => ccompatUrl.replace(/\/apis\/ccompat\/v\d+\/?$/, '/apis/registry/v2');

/** The arguments of `java` that run the console consumer on a topic, decoding values through the registry. */
export function consoleCommand(
  topic: string,
  options: { libs: string; brokers: string; registryUrl: string; extra: string[]; commandConfig?: string; group?: string },
): string[] {
  const formatter = (name: string, value: string) => ['--formatter-property', `${name}=${value}`];
  return [
    '-cp',
    `${options.libs}/*`,
    'org.apache.kafka.tools.consumer.ConsoleConsumer',
    '--bootstrap-server',
    options.brokers,
    '--topic',
    topic,
    ...(options.commandConfig ? ['--command-config', options.commandConfig] : []),
    ...(options.group ? ['--group', options.group] : []),
    ...['print.partition', 'print.offset', 'print.headers', 'print.key'].flatMap((p) => formatter(p, 'true')),
    ...formatter('value.deserializer', 'io.apicurio.registry.serde.avro.AvroKafkaDeserializer'),
    ...formatter('value.deserializer.apicurio.registry.url', apicurioApiOf(options.registryUrl)),
    // The services write Confluent's framing (magic byte, 4-byte id) with the ccompat API's ids,
    // which are the registry's content ids.
    ...formatter('value.deserializer.apicurio.registry.as-confluent', 'true'),
    ...formatter('value.deserializer.apicurio.registry.use-id', 'contentId'),
    ...options.extra,
  ];
}

const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

/** Prints the exact command, then runs it with this terminal; resolves to its exit code. */
export async function runConsole(topic: string, extra: string[]): Promise<number> {
  const java = process.env['JAVA'] ?? 'java';
  const kafka = toolKafkaSettings();
  const sasl = kafkaConnection(kafka).sasl;
  let commandConfig: string | undefined;
  if (sasl && 'username' in sasl) {
    const dir = mkdtempSync(join(tmpdir(), 'events-console-'));
    commandConfig = join(dir, 'client.properties');
    const jaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="${sasl.username}" password="${sasl.password}";`;
    writeFileSync(commandConfig, `security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=${jaas}\n`, { mode: 0o600 });
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const args = consoleCommand(topic, {
    libs: consoleLibs(),
    brokers: kafka['KAFKA_BROKERS'] ?? '127.0.0.1:9092',
    registryUrl: process.env['SCHEMA_REGISTRY_URL'] ?? 'http://127.0.0.1:8081/apis/ccompat/v7',
    extra,
    ...(commandConfig ? { commandConfig } : {}),
    // A group its principal may use (ops: eventflow-*; test: test.*).
    group: namespaced(`eventflow-console-${randomUUID()}`),
  });
  console.error([java, ...args].map(quote).join(' '));
  const child = spawn(java, args, { stdio: 'inherit' });
  process.once('SIGINT', () => child.kill('SIGINT'));
  return new Promise((resolve) => {
    child.on('exit', (code) => resolve(code ?? 1));
    child.on('error', (error) => {
      console.error(`cannot run ${java}: ${error.message} (a JDK 17+ is needed)`);
      resolve(1);
    });
  });
}
